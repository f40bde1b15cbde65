//! The routes, over `tiny_http`. Only the request line is read (method,
//! path, query); a request's body and headers are never used, so no file
//! path or file content can come from a request.
//!
//! | route | answer |
//! | --- | --- |
//! | `GET /` | the page |
//! | `GET /app.js`, `GET /style.css` | its script and style |
//! | `GET /api/run?set=KEY=VALUE&...&client=ID` | JSON: the run's numbers, charts and differences, or `{"error": ...}` |
//! | `GET /download/scenario.toml?set=...` | the changed scenario |
//! | `GET /download/summary.csv?set=...` (and `diagnosis.csv`, `compare.csv`) | the run's CSVs |
//!
//! Errors are JSON `{"error": "one paragraph"}`: 400 bad input, 404, 405,
//! 409 superseded by a newer change of the same page, 414 a request line
//! too long, 429 busy, 500 a bug.

use std::io::Cursor;

use serde_json::json;
use tiny_http::{Header, Method, Request, Response};

use super::page;
use super::state::{Refusal, State};

/// The longest request path and query answered: 64 changes of a few
/// dozen characters fit with room to spare.
pub const MAX_URL_BYTES: usize = 16 * 1024;

type Answer = Response<Cursor<Vec<u8>>>;

fn header(name: &str, value: &str) -> Header {
    Header::from_bytes(name.as_bytes(), value.as_bytes())
        .unwrap_or_else(|()| Header::from_bytes(&b"X-Invalid"[..], &b"1"[..]).expect("valid"))
}

fn with_type(body: Vec<u8>, status: u16, content_type: &str) -> Answer {
    Response::from_data(body)
        .with_status_code(status)
        .with_header(header("Content-Type", content_type))
        .with_header(header("Cache-Control", "no-store"))
        .with_header(header("X-Content-Type-Options", "nosniff"))
}

fn json_answer(status: u16, value: &serde_json::Value) -> Answer {
    with_type(
        value.to_string().into_bytes(),
        status,
        "application/json; charset=utf-8",
    )
}

fn refusal(refusal: &Refusal) -> Answer {
    json_answer(refusal.status, &json!({ "error": refusal.message }))
}

fn error(status: u16, message: &str) -> Answer {
    refusal(&Refusal {
        status,
        message: message.to_string(),
    })
}

fn download(body: Vec<u8>, content_type: &str, name: &str) -> Answer {
    with_type(body, 200, content_type).with_header(header(
        "Content-Disposition",
        &format!("attachment; filename=\"{name}\""),
    ))
}

/// Answers one request; a panic while building the answer (a bug) is
/// answered 500 and the server goes on.
pub fn handle(state: &State, request: Request) {
    let method = request.method().clone();
    let url = request.url().to_string();
    let answer =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| route(state, &method, &url)))
            .unwrap_or_else(|_| {
                error(
                    500,
                    "internal error; this is a bug in vomsim, please report it",
                )
            });
    // A client that went away is not the server's failure.
    let _ = request.respond(answer);
}

/// The page's query: its changes (`set`, in order) and its `client` token.
#[derive(Debug, Default, PartialEq)]
pub struct Query {
    pub sets: Vec<String>,
    pub client: Option<String>,
}

/// Reads a query string; `Err` names what is wrong.
pub fn parse_query(query: &str) -> Result<Query, String> {
    let mut parsed = Query::default();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let name = decode(name)?;
        let value = decode(value)?;
        match name.as_str() {
            "set" => {
                if !value.contains('=') {
                    return Err(format!(
                        "set={value:?} is not a change: write KEY=VALUE, e.g. referrals.per_month=60"
                    ));
                }
                parsed.sets.push(value);
            }
            "client" if value.len() <= 64 && value.chars().all(|c| c.is_ascii_alphanumeric()) => {
                parsed.client = Some(value);
            }
            "client" => {
                return Err("client must be at most 64 letters or digits".to_string());
            }
            other => {
                return Err(format!(
                    "unknown parameter {other:?}: the page sends `set=KEY=VALUE` and `client`"
                ));
            }
        }
    }
    Ok(parsed)
}

/// Percent-decoding of a query part (`+` is a space); `Err` for a bad
/// escape or text that is not UTF-8.
fn decode(text: &str) -> Result<String, String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| format!("bad percent escape in {text:?}"))?;
                out.push(hex);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| format!("{text:?} is not UTF-8 text"))
}

fn route(state: &State, method: &Method, url: &str) -> Answer {
    if url.len() > MAX_URL_BYTES {
        return error(
            414,
            &format!("request line over {MAX_URL_BYTES} bytes: too many or too long changes"),
        );
    }
    if !matches!(method, Method::Get | Method::Head) {
        return error(405, "only GET is answered").with_header(header("Allow", "GET, HEAD"));
    }
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    // HEAD would run a simulation for a body nobody reads.
    if matches!(method, Method::Head)
        && (path.starts_with("/api/") || path.starts_with("/download/"))
    {
        return error(
            405,
            "HEAD is answered for the page and its files only; use GET here",
        )
        .with_header(header("Allow", "GET"));
    }
    match path {
        // The policy forbids loading anything from elsewhere: the page
        // works offline and cannot leak what is typed into it.
        "/" | "/index.html" => with_type(
            page::index(state).into_bytes(),
            200,
            "text/html; charset=utf-8",
        )
        .with_header(header(
            "Content-Security-Policy",
            "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:",
        )),
        "/app.js" => with_type(
            page::APP_JS.as_bytes().to_vec(),
            200,
            "text/javascript; charset=utf-8",
        ),
        "/style.css" => with_type(
            page::STYLE_CSS.as_bytes().to_vec(),
            200,
            "text/css; charset=utf-8",
        ),
        "/api/run" => with_run(state, query, |computed| {
            page::run_json(state, computed).map(|value| json_answer(200, &value))
        }),
        "/download/scenario.toml" => with_run(state, query, |computed| {
            let name = format!("{}.toml", computed.scenario.name());
            Ok(download(
                page::scenario_toml(state, computed).into_bytes(),
                "application/toml; charset=utf-8",
                &name,
            ))
        }),
        _ => match path.strip_prefix("/download/") {
            Some(name) if page::CSV_FILES.contains(&name) => with_run(state, query, |computed| {
                page::csv_file(computed, name)
                    .map(|bytes| download(bytes, "text/csv; charset=utf-8", name))
                    .ok_or_else(|| Refusal {
                        status: 500,
                        message: format!("{name} could not be made"),
                    })
            }),
            _ => error(404, &format!("no such page: {path}")),
        },
    }
}

/// Runs (or finds) the run the query asks for and answers with `answer`.
fn with_run(
    state: &State,
    query: &str,
    answer: impl FnOnce(&super::state::Computed) -> Result<Answer, Refusal>,
) -> Answer {
    let query = match parse_query(query) {
        Ok(query) => query,
        Err(message) => return error(400, &message),
    };
    match state
        .computed(&query.sets, query.client.as_deref())
        .and_then(|computed| answer(&computed))
    {
        Ok(response) => response,
        Err(why) => refusal(&why),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_decoded_and_checked() {
        let q = parse_query("set=referrals.per_month%3D60&set=a.b%3Dx+y&client=abc1").unwrap();
        assert_eq!(q.sets, ["referrals.per_month=60", "a.b=x y"]);
        assert_eq!(q.client.as_deref(), Some("abc1"));
        assert!(parse_query("set=novalue").is_err());
        assert!(parse_query("file=/etc/passwd").is_err());
        assert!(parse_query("set=%zz").is_err());
        assert!(parse_query("set=%ff%3D1").is_err());
        assert!(parse_query("client=a/b").is_err());
        assert_eq!(parse_query("").unwrap(), Query::default());
    }
}
