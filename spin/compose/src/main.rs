//! `cordial-spin build`: composes the Spin components into `spin/dist` (see the library).

use clap::Parser;
use std::path::PathBuf;

/// Builds the Spin deployment's components.
#[derive(Parser)]
#[command(name = "cordial-spin")]
enum Command {
    /// Composes each job with its entry and settings scope, checks it against what Spin
    /// links, and writes it with the proxy into the output folder.
    Build {
        /// Where the wasm32-wasip2 components were built.
        #[arg(long, default_value = "jobs/target/wasm32-wasip2/release")]
        components: PathBuf,
        /// Where spin.toml expects them.
        #[arg(long, default_value = "spin/dist")]
        out: PathBuf,
    },
}

fn main() -> anyhow::Result<()> {
    match Command::parse() {
        Command::Build { components, out } => {
            for (path, size) in cordial_spin::build(&components, &out)? {
                println!("{path}  {} KiB", size.div_ceil(1024));
            }
        }
    }
    Ok(())
}
