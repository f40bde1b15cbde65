//! `vomsim serve SCENARIO`: a what-if page for policymakers, served on
//! this machine. The page shows the scenario's headline numbers and the
//! report's charts beside a panel of levers; each change reruns the
//! scenario with the baseline's seed and replications (common random
//! numbers) and shows the paired differences from the baseline with 95%
//! intervals and the chance that the change does better
//! ([`crate::analysis::compare::compare_results`]).
//!
//! The server is `tiny_http`: synchronous, four small dependencies and a
//! short build. One simulation runs at a time and already uses every core,
//! so an async runtime (tokio, with axum or hyper) would add a long compile
//! and nothing a handful of threads does not do. Requests are answered by
//! [`HANDLERS`] threads; see [`state`] for the one simulation slot and
//! [`http`] for the routes.
//!
//! Nothing is written to disk and no request names a file: the scenario
//! is read once, at start, and every download is made in memory.

mod http;
mod page;
mod state;

use std::net::SocketAddr;
use std::sync::Arc;

use crate::cancel::Cancel;
use crate::commands::cli::ServeArgs;
use crate::engine::limits;
use crate::error::{Error, Result};

use super::print_out;

/// Threads answering requests. One may run a simulation and one wait for
/// it (the slot); the others answer the page, its assets and refusals at
/// once, so a busy server still says it is busy.
pub const HANDLERS: usize = 4;

/// `vomsim serve`.
pub(super) fn serve(args: &ServeArgs, cancel: &Cancel) -> Result<()> {
    // Nothing is ever written: a signal ends the server at once (130 or 143).
    let _at_once = cancel.exit_at_once();
    let text = crate::scenario::read_text_file(&args.scenario, "scenario")?;
    let origin = args.scenario.display().to_string();
    let first = crate::scenario::Scenario::from_toml_str(&text, &origin, &args.set)?;
    let seed = args.seed.unwrap_or(first.raw.simulation.seed);
    let threads = limits::threads(args.threads);
    let address = SocketAddr::new(args.bind, args.port);
    // Bind before the baseline runs: a port in use is said at once.
    let server = tiny_http::Server::http(address).map_err(|e| Error::BadArgument {
        option: "--port".to_string(),
        value: args.port.to_string(),
        requirement: format!("cannot listen on {address}: {e}"),
    })?;
    let state = state::State::start(text, origin, args.set.clone(), seed, args.reps, threads)?;
    let bound = server
        .server_addr()
        .to_ip()
        .map_or_else(|| address.to_string(), |a| a.to_string());
    if !args.bind.is_loopback() {
        eprintln!(
            "warning: listening on {bound}, not loopback: anyone who can reach this machine can use the page and run simulations on it"
        );
    }
    print_out(&format!(
        "vomsim serve: {} ({} replications, seed {}, baseline in {}) at http://{bound}/ ; Ctrl-C stops\n",
        state.baseline.scenario.name(),
        state.reps,
        state.seed,
        super::duration(state.baseline.seconds),
    ))?;
    let server = Arc::new(server);
    let state = Arc::new(state);
    let handlers: Vec<_> = (0..HANDLERS)
        .map(|_| {
            let server = Arc::clone(&server);
            let state = Arc::clone(&state);
            std::thread::spawn(move || {
                while let Ok(request) = server.recv() {
                    http::handle(&state, request);
                }
            })
        })
        .collect();
    for handler in handlers {
        let _ = handler.join();
    }
    Ok(())
}
