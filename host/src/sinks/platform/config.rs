//! `[host.platform]`: where the platform's collect API is, the key, and which streams are
//! forwarded there.
//!
//! ```toml
//! [host.platform]
//! base_url = "https://api.lytics.io"     # POST {base_url}/collect/json/{stream}
//! bulk_url = "https://bulk.lytics.io"    # POST {bulk_url}/collect/bulk/{stream}; default base_url
//! api_key_env = "LYTICS_API_KEY"         # or api_key_file; the Data API key
//! batch_size = 1000                      # records per collect/json request
//! bulk_after = 20000                     # a backlog this large goes through collect/bulk
//! [host.platform.streams.cordial_activity]
//! timestamp_field = "cr_event_timestamp" # the default for cordial_activity
//! forward = true
//! ```

use crate::secret::SecretSource;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The checked `[host.platform]` table.
#[derive(Debug, Clone, PartialEq)]
pub struct PlatformConfig {
    /// The collect API's origin for `collect/json`, without a trailing `/`.
    pub base_url: String,
    /// The origin for `collect/bulk`.
    pub bulk_url: String,
    pub api_key: SecretSource,
    pub batch_size: u32,
    pub bulk_after: u64,
    /// The streams forwarded, each with the record field the platform takes its event time
    /// from (none: the platform's ingestion time).
    pub streams: BTreeMap<String, Option<String>>,
}

/// A `collect/json` request stays under the platform's 10 MB: batches are cut at this many
/// bytes whatever `batch_size` says.
pub const MAX_JSON_BYTES: usize = 8 << 20;

/// A `collect/bulk` request carries at most this many bytes of NDJSON.
pub const MAX_BULK_BYTES: usize = 64 << 20;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlatform {
    base_url: Option<String>,
    bulk_url: Option<String>,
    api_key_env: Option<String>,
    api_key_file: Option<PathBuf>,
    batch_size: Option<u32>,
    bulk_after: Option<u64>,
    streams: Option<BTreeMap<String, RawStream>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStream {
    #[serde(default = "yes")]
    forward: bool,
    timestamp_field: Option<String>,
}

fn yes() -> bool {
    true
}

/// The stream Import Activity writes, and the field its event time is in.
const ACTIVITY: (&str, &str) = ("cordial_activity", "cr_event_timestamp");

impl PlatformConfig {
    /// Reads `[host.platform]`, or says everything wrong with it.
    pub fn from_toml(value: &toml::Value) -> Result<PlatformConfig, Vec<String>> {
        let raw: RawPlatform = value.clone().try_into().map_err(|e| vec![e.to_string()])?;
        let mut problems = Vec::new();
        let base_url = raw
            .base_url
            .as_deref()
            .map(|u| origin("base_url", u))
            .unwrap_or_else(|| Ok("https://api.lytics.io".to_owned()))
            .unwrap_or_else(|p| {
                problems.push(p);
                String::new()
            });
        let bulk_url = match raw.bulk_url.as_deref() {
            None if raw.base_url.is_none() => "https://bulk.lytics.io".to_owned(),
            None => base_url.clone(),
            Some(u) => origin("bulk_url", u).unwrap_or_else(|p| {
                problems.push(p);
                String::new()
            }),
        };
        let api_key = match (raw.api_key_env, raw.api_key_file) {
            (Some(var), None) => Some(SecretSource::Env(var)),
            (None, Some(path)) => Some(SecretSource::File(path)),
            _ => {
                problems.push(
                    "set exactly one of api_key_env or api_key_file (the platform's Data API key)"
                        .into(),
                );
                None
            }
        };
        let batch_size = raw.batch_size.unwrap_or(1000);
        if !(1..=50_000).contains(&batch_size) {
            problems.push("batch_size must be from 1 to 50000".into());
        }
        let bulk_after = raw.bulk_after.unwrap_or(20_000);
        let mut streams = BTreeMap::from([(ACTIVITY.0.to_owned(), Some(ACTIVITY.1.to_owned()))]);
        for (name, stream) in raw.streams.unwrap_or_default() {
            if !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                problems.push(format!(
                    "streams.{name}: a stream name may hold only letters, digits, `_` and `-`"
                ));
            }
            if !stream.forward {
                streams.remove(&name);
                continue;
            }
            let default = (name == ACTIVITY.0).then(|| ACTIVITY.1.to_owned());
            streams.insert(name, stream.timestamp_field.or(default));
        }
        match api_key {
            Some(api_key) if problems.is_empty() => Ok(PlatformConfig {
                base_url,
                bulk_url,
                api_key,
                batch_size,
                bulk_after,
                streams,
            }),
            _ => Err(problems),
        }
    }
}

/// `https://api.lytics.io/` → `https://api.lytics.io`; an origin only.
fn origin(setting: &str, url: &str) -> Result<String, String> {
    let trimmed = url.trim().trim_end_matches('/');
    let rest = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"))
        .ok_or_else(|| {
            format!("{setting} `{url}` must start with https:// (or http:// for a local stand-in)")
        })?;
    if rest.is_empty() || rest.contains('/') {
        return Err(format!(
            "{setting} `{url}` must be just the origin, e.g. https://api.lytics.io"
        ));
    }
    Ok(trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<PlatformConfig, Vec<String>> {
        PlatformConfig::from_toml(&toml::from_str::<toml::Value>(text).unwrap())
    }

    #[test]
    fn defaults_forward_the_activity_stream_to_lytics() {
        let c = parse("api_key_env = \"K\"").unwrap();
        assert_eq!(c.base_url, "https://api.lytics.io");
        assert_eq!(c.bulk_url, "https://bulk.lytics.io");
        assert_eq!(
            c.streams,
            BTreeMap::from([(
                "cordial_activity".to_owned(),
                Some("cr_event_timestamp".to_owned())
            )])
        );
        assert_eq!((c.batch_size, c.bulk_after), (1000, 20_000));
    }

    #[test]
    fn streams_are_switched_on_and_off_and_bulk_follows_a_local_base() {
        let c = parse(
            "base_url = \"http://127.0.0.1:9/\"\napi_key_file = \"/k\"\n\
             [streams.cordial_activity]\nforward = false\n\
             [streams.other]\ntimestamp_field = \"at\"\n",
        )
        .unwrap();
        assert_eq!(c.bulk_url, "http://127.0.0.1:9");
        assert_eq!(
            c.streams,
            BTreeMap::from([("other".to_owned(), Some("at".to_owned()))])
        );
    }

    #[test]
    fn every_problem_is_reported() {
        let problems =
            parse("base_url = \"api.lytics.io\"\nbatch_size = 0\n[streams.\"a b\"]\n").unwrap_err();
        assert_eq!(problems.len(), 4, "{problems:?}");
        assert!(problems[0].contains("https://"), "{problems:?}");
        assert!(problems.iter().any(|p| p.contains("api_key_env")));
        assert!(parse("nope = 1\napi_key_env = \"K\"").unwrap_err()[0].contains("nope"));
    }
}
