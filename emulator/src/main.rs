//! `cordial-emulator`: runs the local Cordial API until ctrl-c.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, ValueEnum};
use cordial_emulator::{EmulatorConfig, Seed, serve_forever};

#[derive(Debug, Clone, Copy, ValueEnum)]
enum SeedChoice {
    /// A few typed attributes and a `newsletter` list.
    Demo,
    /// No attributes, no lists.
    Empty,
}

/// A local fake of Cordial's REST API v2.
#[derive(Debug, Parser)]
#[command(name = "cordial-emulator", version)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8787")]
    listen: SocketAddr,
    /// The API key clients must send as the Basic-auth user name.
    #[arg(long, default_value = "emulator-key")]
    api_key: String,
    /// The account to start with.
    #[arg(long, value_enum, default_value = "demo")]
    seed: SeedChoice,
    /// An SFTP private key that contact imports can name as `source.savedKey`
    /// (and activity exports as `destination.savedKey`),
    /// given as NAME=PATH. Repeat for several keys.
    #[arg(long = "saved-sftp-key", value_name = "NAME=PATH", value_parser = saved_key)]
    saved_sftp_keys: Vec<(String, PathBuf)>,
}

fn saved_key(arg: &str) -> Result<(String, PathBuf), String> {
    match arg.split_once('=') {
        Some((name, path)) if !name.is_empty() && !path.is_empty() => {
            Ok((name.to_owned(), PathBuf::from(path)))
        }
        _ => Err(format!("expected NAME=PATH, got `{arg}`")),
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let seed = match args.seed {
        SeedChoice::Demo => Seed::demo(),
        SeedChoice::Empty => Seed::default(),
    };
    serve_forever(EmulatorConfig {
        api_key: args.api_key,
        addr: args.listen,
        seed,
        saved_sftp_keys: args.saved_sftp_keys.into_iter().collect(),
        ..EmulatorConfig::default()
    })
    .await
}
