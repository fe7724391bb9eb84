//! `cordial-emulator`: runs the local Cordial API until ctrl-c.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, ValueEnum};
use cordial_emulator::{EmulatorConfig, RateLimit, Seed, serve_forever};

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
    /// Limits every endpoint (method and route, e.g. `PUT /v2/contacts/{id}`, one
    /// allowance for all contacts) to this many requests a second, as Cordial's own
    /// unpublished per-endpoint limits do: a token bucket per endpoint, refilled
    /// continuously. A request beyond it gets Cordial's 429 with `Retry-After` the whole
    /// seconds until the endpoint's next token. Off when not given.
    #[arg(long, value_name = "REQUESTS-PER-SECOND", value_parser = positive_rate)]
    rate_limit: Option<f64>,
    /// With `--rate-limit`: how many requests an endpoint accepts back to back after a
    /// quiet spell (the bucket's depth, reported as `X-Rate-Limit-Limit`). Default: the
    /// rate rounded up, i.e. about one second's worth.
    #[arg(long, value_name = "N", requires = "rate_limit", value_parser = clap::value_parser!(u32).range(1..))]
    rate_limit_burst: Option<u32>,
}

/// A rate a bucket can refill at: finite and above zero (zero would refuse every request
/// after the first burst for ever, which no real account does).
fn positive_rate(arg: &str) -> Result<f64, String> {
    match arg.parse::<f64>() {
        Ok(rate) if rate.is_finite() && rate > 0.0 => Ok(rate),
        _ => Err(format!(
            "expected a number of requests a second above 0, got `{arg}`"
        )),
    }
}

/// The limit the flags ask for: the burst defaults to one second's worth of requests
/// (at least one), so that `--rate-limit 0.5` still lets a request through.
fn rate_limit(rate: Option<f64>, burst: Option<u32>) -> Option<RateLimit> {
    rate.map(|requests_per_second| RateLimit {
        requests_per_second,
        burst: burst
            .unwrap_or_else(|| requests_per_second.ceil().clamp(1.0, f64::from(u32::MAX)) as u32),
    })
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
        rate_limit: rate_limit(args.rate_limit, args.rate_limit_burst),
        ..EmulatorConfig::default()
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_burst_defaults_to_the_rate_rounded_up() {
        let parse = |argv: &[&str]| {
            let args = Args::try_parse_from([&["cordial-emulator"], argv].concat())?;
            Ok::<_, clap::Error>(rate_limit(args.rate_limit, args.rate_limit_burst))
        };
        assert_eq!(parse(&[]).unwrap(), None);
        let limit = |requests_per_second, burst| {
            Some(RateLimit {
                requests_per_second,
                burst,
            })
        };
        assert_eq!(parse(&["--rate-limit", "2.5"]).unwrap(), limit(2.5, 3));
        assert_eq!(parse(&["--rate-limit", "0.2"]).unwrap(), limit(0.2, 1));
        assert_eq!(
            parse(&["--rate-limit", "2", "--rate-limit-burst", "10"]).unwrap(),
            limit(2.0, 10)
        );
        for bad in [
            &["--rate-limit", "0"][..],
            &["--rate-limit", "-1"],
            &["--rate-limit", "inf"],
            &["--rate-limit", "NaN"],
            &["--rate-limit", "1", "--rate-limit-burst", "0"],
            &["--rate-limit-burst", "3"],
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }
}
