//! `cordial-host forward <config>`: sends what the streams hold beyond their cursors to the
//! platform now, then shows where each forwarded stream stands.

use crate::db::Db;
use crate::sinks::platform::{Forwarder, Patience};
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

pub async fn run(path: &Path, wait: Duration) -> anyhow::Result<ExitCode> {
    let config = super::load_config(path)?;
    let Some(platform) = &config.platform else {
        anyhow::bail!(
            "{} has no [host.platform] section; add one to forward streams (README, \"Forwarding to the platform\")",
            path.display()
        );
    };
    let store = Db::open(&config.store)?;
    let forwarder = Forwarder::new(platform, store.clone())?;
    let mut ok = true;
    let mut patience = Patience::at_most(wait);
    match forwarder
        .catch_up_unless_served(&config.store, &mut patience)
        .await?
    {
        None => {
            eprintln!("a running cordial-host serve forwards this store; showing where it stands")
        }
        Some(passes) => {
            for pass in passes {
                match pass.stuck {
                    None => eprintln!("{}: {} record(s) sent now", pass.stream, pass.sent),
                    Some(stuck) => {
                        ok = false;
                        eprintln!("{}: stuck: {stuck}", pass.stream);
                    }
                }
            }
        }
    }
    println!(
        "{:<24} {:>10} {:>9} {:>9} {:>11} {:>8}  last error",
        "stream", "forwarded", "waiting", "rejected", "quarantined", "re-sent"
    );
    for (stream, _) in forwarder.streams() {
        let f = store.forwarding(stream)?;
        let waiting = store.stream_backlog(stream, f.cursor)?;
        println!(
            "{stream:<24} {:>10} {waiting:>9} {:>9} {:>11} {:>8}  {}",
            f.forwarded,
            f.rejected,
            f.quarantined,
            f.resent_records,
            f.last_error.as_deref().unwrap_or("-")
        );
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
