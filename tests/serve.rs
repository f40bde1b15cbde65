//! `vomsim serve`: the real binary on a free loopback port.
//!
//! - A real browser (Debian's headless `chromium`, driven through
//!   `chromedriver` by the small W3C WebDriver client below) loads the
//!   page, changes a lever, waits for the result, and the numbers it shows
//!   are those of `vomsim run` and `vomsim compare` with the same `--set`
//!   and seed. Without chromium or chromedriver it is skipped with a note,
//!   except in CI (`CI` set), where it must run (`.ci/run` installs both).
//! - Bad values (out of range, an unknown key, huge runs, bad requests)
//!   get a clear error and the server keeps serving.
//! - 20 concurrent requests are each answered, or refused with 429.
//!
//! HTTP is spoken over `std::net::TcpStream` (one request per connection,
//! `Connection: close`): the server, chromedriver's JSON and a load test
//! need nothing more, and a client crate (fantoccini pulls tokio and hyper;
//! even ureq adds a dozen crates) would lengthen every build on two cores
//! for no check it makes better.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{repo, vomsim};
use serde_json::{Value, json};

/// A running `vomsim serve`, stopped when dropped.
struct Server {
    child: Child,
    /// `127.0.0.1:PORT`.
    address: String,
}

impl Server {
    fn start(args: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_vomsim"))
            .arg("serve")
            .arg(repo("scenarios/vors_la.toml"))
            .args(["--port", "0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let address = line
            .split("http://")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .unwrap_or_else(|| panic!("no address in {line:?}"))
            .to_string();
        Server { child, address }
    }

    fn get(&self, path: &str) -> (u16, String) {
        http(&self.address, "GET", path, None)
    }

    fn alive(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP/1.1 request on its own connection; the status and the body
/// (de-chunked if need be).
fn http(address: &str, method: &str, path: &str, body: Option<&str>) -> (u16, String) {
    let mut stream = TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(120)))
        .unwrap();
    let body = body.unwrap_or("");
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    // chromedriver may keep the connection open: read the head, then
    // exactly the body its length or its chunks say.
    let mut reader = BufReader::new(stream);
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
            break;
        }
        head.push_str(&line);
    }
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {head:?}"));
    let lower = head.to_ascii_lowercase();
    let length = lower
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .map(|n| n.trim().parse::<usize>().unwrap());
    let mut body = Vec::new();
    // A HEAD answer has no body, whatever its length says.
    if method == "HEAD" {
    } else if let Some(length) = length {
        body.resize(length, 0);
        reader.read_exact(&mut body).unwrap();
    } else if lower.contains("transfer-encoding: chunked") {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size).unwrap();
            let size = usize::from_str_radix(size.split(';').next().unwrap().trim(), 16).unwrap();
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk).unwrap();
            if size == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..size]);
        }
    } else {
        reader.read_to_end(&mut body).unwrap();
    }
    (status, String::from_utf8_lossy(&body).into_owned())
}

fn json_of(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'_' | b'-' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn run_path(sets: &[&str]) -> String {
    let query: Vec<String> = sets.iter().map(|s| format!("set={}", encode(s))).collect();
    format!("/api/run?{}", query.join("&"))
}

#[test]
fn bad_values_get_clear_errors_and_the_server_keeps_serving() {
    let mut server = Server::start(&["--reps", "20"]);
    for (sets, status, needle) in [
        (
            vec!["mediation.agreement_probability=1.3"],
            400,
            "mediation.agreement_probability = 1.3 must lie in [0, 1]",
        ),
        (
            vec!["mediation.agrement_probability=0.5"],
            400,
            "did you mean `mediation.agreement_probability`",
        ),
        (vec!["referrals.per_month=abc"], 400, "referrals.per_month"),
        (
            vec!["simulation.replications=100000000"],
            400,
            "cannot be changed on the page",
        ),
        (
            vec!["referrals.per_month=100000"],
            400,
            "too large a run for the page",
        ),
        (
            vec!["simulation.intake_months=100000"],
            400,
            "simulation.intake_months",
        ),
    ] {
        let (got, body) = server.get(&run_path(&sets));
        assert_eq!(got, status, "{sets:?}: {body}");
        let error = json_of(&body)["error"].as_str().unwrap().to_string();
        assert!(error.contains(needle), "{sets:?}: {error}");
        assert!(!error.contains('\n'), "one paragraph: {error}");
    }
    // Requests that are not the page's.
    for (method, path, status, needle) in [
        (
            "GET",
            "/api/run?file=/etc/passwd".to_string(),
            400,
            "unknown parameter",
        ),
        (
            "GET",
            "/api/run?set=%zz".to_string(),
            400,
            "bad percent escape",
        ),
        (
            "GET",
            "/api/run?set=%ff%fe%3D1".to_string(),
            400,
            "not UTF-8",
        ),
        ("GET", "/api/run?set=novalue".to_string(), 400, "KEY=VALUE"),
        ("GET", "/../../etc/passwd".to_string(), 404, "no such page"),
        (
            "GET",
            "/download/replications.csv".to_string(),
            404,
            "no such page",
        ),
        ("POST", "/api/run".to_string(), 405, "only GET"),
        // HEAD would simulate for a body nobody reads (no body to check).
        (
            "HEAD",
            "/api/run?set=referrals.per_month%3D60".to_string(),
            405,
            "",
        ),
        (
            "GET",
            format!("/api/run?set=a.b%3D{}", "x".repeat(20_000)),
            414,
            "request line over",
        ),
        (
            "GET",
            run_path(&vec!["referrals.per_month=41"; 65]),
            400,
            "at most 64",
        ),
    ] {
        let (got, body) = http(&server.address, method, &path, Some("{\"x\": 1}"));
        assert_eq!(
            got,
            status,
            "{method} {}: {body}",
            &path[..path.len().min(80)]
        );
        if method == "HEAD" {
            assert!(body.is_empty(), "a HEAD answer has no body");
            continue;
        }
        let error = json_of(&body)["error"].as_str().unwrap().to_string();
        assert!(error.contains(needle), "{path:.80}: {error}");
    }
    // Bytes that are not HTTP at all, and a connection dropped mid-request.
    for junk in [
        &b"\x00\xff\xfe garbage\r\n\r\n"[..],
        b"GET /",
        b"GET / HTTP/9.9\r\n\r\n",
    ] {
        let mut stream = TcpStream::connect(&server.address).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        stream.write_all(junk).unwrap();
        let _ = stream.shutdown(std::net::Shutdown::Write);
        let mut ignored = Vec::new();
        let _ = stream.read_to_end(&mut ignored);
    }
    // Still serving: the page, and a good change.
    assert!(server.alive());
    let (status, page) = server.get("/");
    assert_eq!(status, 200);
    assert!(page.contains("referrals.per_month"));
    let (status, body) = server.get(&run_path(&["referrals.per_month=60"]));
    assert_eq!(status, 200, "{body}");
    assert!(
        json_of(&body)["differences"]
            .as_str()
            .unwrap()
            .contains("share mediated")
    );
}

#[test]
fn a_run_too_large_for_the_page_is_refused_at_start() {
    vomsim()
        .arg("serve")
        .arg(repo("scenarios/vors_la.toml"))
        .args(["--port", "0", "--reps", "20000"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "serve runs at most 10000 replications",
        ));
}

#[test]
fn binding_beyond_loopback_is_said() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_vomsim"))
        .arg("serve")
        .arg(repo("scenarios/vors_la.toml"))
        .args(["--port", "0", "--bind", "0.0.0.0", "--reps", "5"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        line.starts_with("warning: listening on 0.0.0.0:") && line.contains("not loopback"),
        "{line}"
    );
}

#[test]
fn twenty_concurrent_requests_are_answered_or_refused_with_429() {
    let mut server = Server::start(&["--reps", "100"]);
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(20));
    let statuses: Vec<(u16, String)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..20)
            .map(|i| {
                let barrier = std::sync::Arc::clone(&barrier);
                let address = server.address.clone();
                scope.spawn(move || {
                    barrier.wait();
                    // Each a different change, so none is a cached answer.
                    http(
                        &address,
                        "GET",
                        &run_path(&[&format!("referrals.per_month={}", 30 + i)]),
                        None,
                    )
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let ran = statuses.iter().filter(|(s, _)| *s == 200).count();
    let busy = statuses.iter().filter(|(s, _)| *s == 429).count();
    println!("{ran} answered, {busy} refused as busy");
    for (status, body) in &statuses {
        assert!(matches!(status, 200 | 429), "{status}: {body:.200}");
        let value = json_of(body);
        if *status == 429 {
            assert!(value["error"].as_str().unwrap().contains("busy"));
        } else {
            assert!(value["differences"].as_str().unwrap().contains("<table"));
        }
    }
    assert!(ran >= 1, "no request was answered");
    assert!(server.alive());
    assert_eq!(server.get("/").0, 200);
    assert_eq!(server.get(&run_path(&["referrals.per_month=77"])).0, 200);
}

/// A free loopback port (bound, read, released).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn found(candidates: &[&str]) -> Option<PathBuf> {
    candidates.iter().map(PathBuf::from).find(|program| {
        Command::new(program)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

/// A W3C WebDriver session on chromedriver, deleted (and chromedriver
/// stopped) when dropped.
struct Browser {
    driver: Child,
    address: String,
    session: String,
}

impl Browser {
    fn start(chromium: &Path, chromedriver: &Path, profile: &Path) -> Browser {
        let port = free_port();
        let driver = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let address = format!("127.0.0.1:{port}");
        let mut browser = Browser {
            driver,
            address,
            session: String::new(),
        };
        let ready = wait_for(Duration::from_secs(30), || {
            TcpStream::connect(&browser.address).is_ok()
                && browser.call("GET", "/status", None)["ready"] == json!(true)
        });
        assert!(ready, "chromedriver did not start");
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    "--window-size=1280,1000",
                    format!("--user-data-dir={}", profile.display()),
                ],
            },
        }}});
        let created = browser.call("POST", "/session", Some(capabilities));
        browser.session = created["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {created}"))
            .to_string();
        browser
    }

    /// A WebDriver command; its `value`.
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let body = body.map(|b| b.to_string());
        let (status, text) = http(&self.address, method, path, body.as_deref());
        let value = json_of(&text)["value"].clone();
        assert!(status == 200, "{method} {path}: {status} {value}");
        value
    }

    fn command(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.call(method, &format!("/session/{}{path}", self.session), body)
    }

    fn script(&self, script: &str) -> Value {
        self.command(
            "POST",
            "/execute/sync",
            Some(json!({"script": script, "args": []})),
        )
    }

    fn element(&self, css: &str) -> String {
        let found = self.command(
            "POST",
            "/element",
            Some(json!({"using": "css selector", "value": css})),
        );
        found
            .as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("no element {css}: {found}"))
            .to_string()
    }

    fn type_into(&self, css: &str, text: &str) {
        let element = self.element(css);
        self.command(
            "POST",
            &format!("/element/{element}/clear"),
            Some(json!({})),
        );
        self.command(
            "POST",
            &format!("/element/{element}/value"),
            Some(json!({"text": text})),
        );
    }

    fn click(&self, css: &str) {
        let element = self.element(css);
        self.command(
            "POST",
            &format!("/element/{element}/click"),
            Some(json!({})),
        );
    }

    fn open(&self, url: &str) {
        self.command("POST", "/url", Some(json!({"url": url})));
    }

    /// Waits until the page's status says `state` for exactly `sets`.
    fn wait_for_state(&self, state: &str, sets: &[&str]) {
        let expected = sets.join("\n");
        let reached = wait_for(Duration::from_secs(60), || {
            let status = self.script(
                "const s = document.getElementById('status'); return [s.dataset.state, s.dataset.sets];",
            );
            status[0] == json!(state) && status[1] == json!(expected)
        });
        let status = self.script("return document.getElementById('status').textContent;");
        assert!(
            reached,
            "the page never reached {state} for {sets:?}: {status}"
        );
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = http(
                &self.address,
                "DELETE",
                &format!("/session/{}", self.session),
                None,
            );
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Polls `ready` every 50 ms until it holds or `limit` passes (a bound on
/// a hang, not a timed assertion).
fn wait_for(limit: Duration, mut ready: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if ready() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// `compare.csv`'s rows by (metric, group, month): the columns from
/// `a_mean` to `p_a_better`, as written.
fn compare_rows(path: &Path) -> std::collections::HashMap<(String, String, String), Vec<String>> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (
                (r[0].to_string(), r[1].to_string(), r[2].to_string()),
                [3, 4, 5, 6, 7, 9]
                    .iter()
                    .map(|&i| r[i].to_string())
                    .collect(),
            )
        })
        .collect()
}

#[test]
fn a_browser_changes_a_lever_and_sees_the_numbers_of_run_and_compare() {
    let chromium = found(&["chromium", "chromium-browser", "google-chrome"]);
    let chromedriver = found(&["chromedriver", "/usr/bin/chromedriver"]);
    let (Some(chromium), Some(chromedriver)) = (chromium, chromedriver) else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run the browser test: .ci/run installs chromium and chromium-driver"
        );
        eprintln!(
            "browser test not run: no chromium or chromedriver here (apt-get install chromium chromium-driver)"
        );
        return;
    };
    let chromium = which(&chromium);
    let tmp = tempfile::tempdir().unwrap();
    let (seed, reps) = ("7", "200");
    let server = Server::start(&["--seed", seed, "--reps", reps]);
    let browser = Browser::start(&chromium, &chromedriver, &tmp.path().join("profile"));
    let page = format!("http://{}/", server.address);
    browser.open(&page);
    browser.wait_for_state("done", &[]);

    // Change one lever as a person would: clear it and type.
    let lever = "referrals.per_month=60";
    let typed = Instant::now();
    browser.type_into("[data-key='referrals.per_month']", "60");
    browser.wait_for_state("done", &[lever]);
    // Measured, not asserted: typing, the page's 150 ms pause for more
    // keys, the run, and the drawing; and the request to drawn part alone.
    let request_to_screen = browser.script("return document.getElementById('status').dataset.ms;");
    println!(
        "lever change to numbers on screen: {} ms, of which request to screen {} ms (vors_la, {reps} replications)",
        typed.elapsed().as_millis(),
        request_to_screen.as_str().unwrap_or("?")
    );
    let shown = browser.script(
        "return [...document.querySelectorAll('#differences tr[data-metric]')].map(r => \
         [r.dataset.metric, r.dataset.group, r.dataset.month, r.dataset.a, r.dataset.b, \
          r.dataset.difference, r.dataset.lower, r.dataset.upper, r.dataset.p, \
          [...r.cells].map(c => c.textContent)]);",
    );
    let shown = shown.as_array().unwrap().clone();
    assert!(shown.len() >= 8, "rows shown: {shown:?}");
    let search = browser.script("return location.search;");
    assert_eq!(
        search,
        json!("?set=referrals.per_month%3D60"),
        "the URL holds the change"
    );

    // The same runs on the command line, and their comparison.
    let run = |name: &str, sets: &[&str]| {
        let out = tmp.path().join(name);
        let mut command = vomsim();
        command
            .arg("run")
            .arg(repo("scenarios/vors_la.toml"))
            .args(["--seed", seed, "--reps", reps, "--quiet", "--out"])
            .arg(&out);
        for set in sets {
            command.args(["--set", set]);
        }
        command.assert().success();
        out
    };
    let baseline = run("baseline", &[]);
    let changed = run("changed", &[lever]);
    vomsim()
        .arg("compare")
        .arg(&baseline)
        .arg(&changed)
        .arg("--out")
        .arg(tmp.path().join("compare"))
        .assert()
        .success();
    let compared = compare_rows(&tmp.path().join("compare/compare.csv"));
    let summary = common::read_summary(&changed.join("summary.csv"));
    for row in &shown {
        let text = |i: usize| row[i].as_str().unwrap().to_string();
        let key = (text(0), text(1), text(2));
        let expected = compared
            .get(&key)
            .unwrap_or_else(|| panic!("{key:?} is not in compare.csv"));
        let got: Vec<String> = (3..9).map(text).collect();
        assert_eq!(&got, expected, "{key:?}: the page against vomsim compare");
        // B's mean is the changed run's mean in its summary.csv.
        let mean: f64 = text(4).parse().unwrap();
        assert_eq!(
            mean, summary[&key].mean,
            "{key:?}: the page against vomsim run"
        );
        // The words shown are those numbers: shares as percentages, the
        // change as B - A in points.
        if key.0 == "share" {
            let cells = row[9].as_array().unwrap();
            assert_eq!(cells[2], json!(format!("{:.1}%", mean * 100.0)), "{key:?}");
            let difference: f64 = text(5).parse().unwrap();
            let change = format!("{:+.1} points", -difference * 100.0);
            // A change that rounds to zero is shown without a sign.
            let change = match change.strip_prefix(['+', '-']) {
                Some(bare) if bare.starts_with("0.0 ") => bare.to_string(),
                _ => change,
            };
            assert_eq!(cells[3], json!(change), "{key:?}");
        }
    }
    // The chance shown is 1 - P(A better), as a percentage.
    let mediated = shown
        .iter()
        .find(|r| r[0] == json!("share") && r[1] == json!("mediated"))
        .expect("share mediated is shown");
    let p: f64 = mediated[8].as_str().unwrap().parse().unwrap();
    assert_eq!(mediated[9][5], json!(format!("{:.0}%", (1.0 - p) * 100.0)));
    // The downloads are the run's files: summary.csv byte for byte.
    let (status, downloaded) = server.get("/download/summary.csv?set=referrals.per_month%3D60");
    assert_eq!(status, 200);
    assert_eq!(
        downloaded,
        std::fs::read_to_string(changed.join("summary.csv")).unwrap()
    );
    let (status, toml) = server.get("/download/scenario.toml?set=referrals.per_month%3D60");
    assert_eq!(status, 200);
    assert!(
        toml.contains("# --set referrals.per_month=60"),
        "{toml:.400}"
    );
    // The TOML downloaded runs to the same numbers.
    let file = tmp.path().join("changed.toml");
    std::fs::write(&file, &toml).unwrap();
    let rerun = tmp.path().join("rerun");
    vomsim()
        .arg("run")
        .arg(&file)
        .args([
            "--seed",
            seed,
            "--reps",
            reps,
            "--quiet",
            "--no-replications",
            "--out",
        ])
        .arg(&rerun)
        .assert()
        .success();
    assert_eq!(
        std::fs::read(rerun.join("summary.csv")).unwrap(),
        std::fs::read(changed.join("summary.csv")).unwrap()
    );

    // A bad key added by name: the page shows the error, and recovers.
    browser.type_into("#add-key", "mediation.agrement_probability");
    browser.type_into("#add-value", "0.5");
    browser.click("#add");
    browser.wait_for_state("error", &[lever, "mediation.agrement_probability=0.5"]);
    let error = browser.script("return document.getElementById('error').textContent;");
    assert!(
        error
            .as_str()
            .unwrap()
            .contains("did you mean `mediation.agreement_probability`"),
        "{error}"
    );
    browser.click("#reset");
    browser.wait_for_state("done", &[]);

    // The shared link reproduces the page: the lever reads 60 again.
    browser.open(&format!("{page}?set=referrals.per_month%3D60"));
    browser.wait_for_state("done", &[lever]);
    let value = browser
        .script("return document.querySelector(\"[data-key='referrals.per_month']\").value;");
    assert_eq!(value, json!("60"));
}

/// The full path of a program found on `PATH` (chromedriver wants one).
fn which(program: &Path) -> PathBuf {
    if program.is_absolute() {
        return program.to_path_buf();
    }
    std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join(program))
                .find(|p| p.is_file())
        })
        .unwrap_or_else(|| program.to_path_buf())
}
