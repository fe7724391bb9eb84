//! `cordial-host`: the command line.

use clap::{Parser, Subcommand};
use cordial_host::commands;
use std::path::PathBuf;
use std::process::ExitCode;

/// Runs Cordial integration jobs (WebAssembly components) against Cordial's API.
#[derive(Parser)]
#[command(name = "cordial-host", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Checks a config file and each job's settings (the job's component checks its own
    /// part, against Cordial); prints what to fix and exits non-zero on any problem.
    Check { config: PathBuf },
    /// Runs a scheduled job once, now.
    Run { config: PathBuf, job: String },
    /// Receives the platform's audience-trigger webhooks (`POST /hooks/<job>`), experience
    /// submissions (`POST /capture/<job>`) and Cordial's activity pushes
    /// (`POST /cordial-events/<job>`), delivers them and forwards the streams, until
    /// interrupted.
    Serve { config: PathBuf },
    /// Streams a file of current audience members (NDJSON or CSV) through a real-time job as
    /// `enter` events ("Existing Users"), with progress, and delivers them.
    Backfill {
        config: PathBuf,
        job: String,
        /// The members: `.ndjson`/`.jsonl` (one JSON object per line) or `.csv` with a header.
        #[arg(long)]
        members: PathBuf,
        /// Only queue the members (for a running `serve` to deliver).
        #[arg(long)]
        enqueue_only: bool,
    },
    /// Prints a stream's latest records (e.g. `cordial_activity`), one JSON object per line.
    Stream {
        config: PathBuf,
        stream: String,
        /// How many of the latest records.
        #[arg(long, default_value_t = 20)]
        tail: u32,
    },
    /// Lists the records a scheduled job set aside as malformed, with file, line and reason
    /// (`platform` for the records the platform refused).
    Quarantine { config: PathBuf, job: String },
    /// Sends the streams' records the platform has not acknowledged yet to it now
    /// (`[host.platform]`), then shows each stream's counts.
    Forward {
        config: PathBuf,
        /// How long to wait out a platform that answers 429 or 5xx before giving up.
        #[arg(long, default_value_t = 600)]
        wait_secs: u64,
    },
    /// Lists the recorded runs (scheduled runs, `run`, backfills, delivery windows), newest
    /// first: trigger, start and end, state, counts and last error.
    Runs {
        config: PathBuf,
        /// Only this job's runs.
        job: Option<String>,
        /// How many of the latest runs.
        #[arg(long, default_value_t = 20)]
        limit: u32,
        /// One JSON object per line (NDJSON) instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Shows each job's kind, state (idle or running), last run, next scheduled slot, queue
    /// depth and dead letters.
    Status {
        config: PathBuf,
        /// One JSON object per job and line (NDJSON) instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Shows or replays the dead letters of a queued job (real-time events, capture submissions).
    Dlq {
        #[command(subcommand)]
        action: DlqAction,
    },
    /// Lists what an experience-capture job decided for each submission: contact, rule,
    /// action and outcome, oldest first.
    Audit {
        config: PathBuf,
        job: String,
        /// Only the most recent N decisions.
        #[arg(long)]
        limit: Option<u32>,
        /// One JSON object per line (NDJSON) instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Prints a job component's manifest: kind, WIT world and version, imports, exports,
    /// settings and credentials. Takes a file or an OCI reference.
    Describe {
        component: String,
        /// The manifest as JSON, exactly as embedded.
        #[arg(long)]
        json: bool,
    },
    /// Packages built job components for distribution: each gets its manifest embedded (a
    /// `cordial:manifest` custom section) and written beside it as `<kind>.manifest.json`.
    Package {
        components: Vec<PathBuf>,
        /// The folder to write them to.
        #[arg(long, default_value = "jobs/dist")]
        out: PathBuf,
    },
    /// Pushes a packaged component to an OCI registry as a Wasm OCI artifact
    /// (`registry/namespace/name:tag`); prints the reference by digest. Credentials come
    /// from CORDIAL_REGISTRY_USERNAME and CORDIAL_REGISTRY_PASSWORD.
    Publish {
        component: PathBuf,
        reference: String,
    },
}

#[derive(Subcommand)]
enum DlqAction {
    /// Lists the dead letters with Cordial's status and message.
    List { config: PathBuf, job: String },
    /// Queues dead letters again (all, or those named with --id), behind newer events.
    Retry {
        config: PathBuf,
        job: String,
        #[arg(long = "id")]
        ids: Vec<i64>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    commands::execute(async {
        match cli.command {
            Command::Check { config } => commands::check::run(&config).await,
            Command::Run { config, job } => commands::run::run(&config, &job).await,
            Command::Serve { config } => commands::serve::run(&config).await,
            Command::Backfill {
                config,
                job,
                members,
                enqueue_only,
            } => commands::backfill::run(&config, &job, &members, enqueue_only).await,
            Command::Stream {
                config,
                stream,
                tail,
            } => commands::stream::tail(&config, &stream, tail),
            Command::Quarantine { config, job } => commands::stream::quarantine(&config, &job),
            Command::Forward { config, wait_secs } => {
                commands::forward::run(&config, std::time::Duration::from_secs(wait_secs)).await
            }
            Command::Runs {
                config,
                job,
                limit,
                json,
            } => commands::runs::run(&config, job.as_deref(), limit, json),
            Command::Status { config, json } => commands::status::run(&config, json),
            Command::Dlq { action } => match action {
                DlqAction::List { config, job } => commands::dlq::list(&config, &job),
                DlqAction::Retry { config, job, ids } => commands::dlq::retry(&config, &job, &ids),
            },
            Command::Audit {
                config,
                job,
                limit,
                json,
            } => commands::audit::run(&config, &job, limit, json),
            Command::Describe { component, json } => {
                commands::describe::run(&component, json).await
            }
            Command::Package { components, out } => commands::package::package(&components, &out),
            Command::Publish {
                component,
                reference,
            } => commands::package::publish(&component, &reference).await,
        }
    })
}
