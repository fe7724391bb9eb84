//! `platform-standin`: the platform's collect API on a local port, for trying the host's
//! forwarding without a platform account.

use clap::Parser;
use platform_standin::{StandinConfig, serve_forever};
use std::net::SocketAddr;

#[derive(Parser)]
#[command(about = "A local stand-in for the platform's collect API")]
struct Args {
    #[arg(long, default_value = "127.0.0.1:8788")]
    listen: SocketAddr,
    /// The key clients must present.
    #[arg(long, default_value = "platform-key")]
    api_key: String,
    /// Read the key from this environment variable instead.
    #[arg(long)]
    api_key_env: Option<String>,
    /// Delay every collect answer by this many milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let api_key = match &args.api_key_env {
        Some(var) => std::env::var(var).map_err(|_| anyhow::anyhow!("{var} is not set"))?,
        None => args.api_key,
    };
    serve_forever(StandinConfig {
        api_key,
        listen: args.listen,
        latency: std::time::Duration::from_millis(args.latency_ms),
    })
    .await
}
