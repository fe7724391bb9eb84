//! `cordial-host emulator`: the local Cordial API, for trying configs without an account.

use cordial_emulator::{EmulatorConfig, Seed};
use std::net::SocketAddr;
use std::process::ExitCode;

pub async fn run(listen: SocketAddr, api_key: String, seed: &str) -> anyhow::Result<ExitCode> {
    let seed = match seed {
        "demo" => Seed::demo(),
        "empty" => Seed::default(),
        other => anyhow::bail!("unknown seed `{other}`; use `demo` or `empty`"),
    };
    cordial_emulator::serve_forever(EmulatorConfig {
        api_key,
        addr: listen,
        seed,
        ..EmulatorConfig::default()
    })
    .await?;
    Ok(ExitCode::SUCCESS)
}
