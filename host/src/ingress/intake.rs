//! What receiving does differently for each kind of job: how a body is read (and what a
//! 400 names), where its items are committed, and what the 202 says.

use super::audience;
use super::route::Route;
use super::submissions;
use crate::config::JobConfig;
use crate::db::{Db, NewEvent, NewItem};
use cordial_jobs::activity::record::{RecordMapper, STREAM, StreamRecord};
use cordial_jobs::settings::{CaptureSettings, ExportSettings, ImportActivitySettings};
use serde_json::{Value, json};

/// How a job's requests are read, with the job's settings.
pub enum Intake {
    /// Audience Trigger payloads, of which the job takes its audience's events.
    Audience(ExportSettings),
    /// Experience submissions, each checked with the job's settings.
    Submissions(CaptureSettings),
    /// Cordial's pushes of contact activity, mapped with the job's `extra_mapping`.
    Activity(ImportActivitySettings),
}

/// A request's items, read and checked, ready to commit.
pub enum Accepted {
    /// The job's audience's events, and how many were for other audiences.
    Events {
        events: Vec<NewEvent>,
        ignored: usize,
    },
    Submissions(Vec<NewItem>),
    /// Activity events as `cordial_activity` records, keyed by their `_id`.
    Activity(Vec<StreamRecord>),
}

impl Intake {
    /// The intake of a job that takes requests, if it does; its settings are read now, so
    /// a problem with them stops the start rather than every request.
    pub fn of(job: &JobConfig) -> anyhow::Result<Option<Intake>> {
        Ok(if Route::Hooks.takes(job.kind) {
            Some(Intake::Audience(settings_of(job)?))
        } else if Route::Capture.takes(job.kind) {
            Some(Intake::Submissions(settings_of(job)?))
        } else if Route::Events.takes(job.kind) {
            Some(Intake::Activity(settings_of(job)?))
        } else {
            None
        })
    }

    /// Reads a whole body; or the 400's body, saying what is wrong and where (`path` in a
    /// payload, `field` of a submission).
    pub fn read(&self, body: &[u8]) -> Result<Accepted, Value> {
        match self {
            Intake::Audience(settings) => {
                match cordial_jobs::webhook::parse_trigger_payload(body) {
                    Ok(events) => {
                        let (events, ignored) = audience::from_trigger(settings, events);
                        Ok(Accepted::Events { events, ignored })
                    }
                    Err(e) => Err(json!({ "error": e.message, "path": e.path })),
                }
            }
            Intake::Submissions(settings) => match submissions::parse_body(settings, body) {
                Ok(items) => Ok(Accepted::Submissions(items)),
                Err(bad) => Err(json!({ "error": bad.message, "field": bad.field })),
            },
            Intake::Activity(settings) => {
                let mapper = RecordMapper::new(&settings.extra_mapping);
                cordial_jobs::intake::activity_records(&mapper, body)
                    .map(Accepted::Activity)
                    .map_err(|bad| json!({ "error": bad.message, "path": bad.path }))
            }
        }
    }
}

impl Accepted {
    pub fn is_empty(&self) -> bool {
        match self {
            Accepted::Events { events, .. } => events.is_empty(),
            Accepted::Submissions(items) => items.is_empty(),
            Accepted::Activity(records) => records.is_empty(),
        }
    }

    /// How many of the request's audience events were for other audiences than the job's.
    pub fn ignored_other_audiences(&self) -> u64 {
        match self {
            Accepted::Events { ignored, .. } => *ignored as u64,
            _ => 0,
        }
    }

    /// Commits the items in one transaction where `job` reads them (nothing to commit, no
    /// transaction), and returns the 202's body.
    pub fn commit(self, store: &Db, job: &JobConfig) -> anyhow::Result<Value> {
        Ok(match self {
            Accepted::Events { events, ignored } => {
                if !events.is_empty() {
                    audience::store_events(store, job, &events)?;
                }
                json!({ "accepted": events.len(), "ignored_other_audiences": ignored })
            }
            Accepted::Submissions(items) => {
                let ids = if items.is_empty() {
                    Vec::new()
                } else {
                    store.enqueue(&job.name, &items)?
                };
                json!({ "accepted": ids.len(), "submission_ids": ids })
            }
            Accepted::Activity(records) => {
                let keyed: Vec<_> = records.into_iter().map(|r| (Some(r.key), r.json)).collect();
                let stored = store.append_stream(STREAM, &keyed)?;
                crate::telemetry::metrics().pushed(&job.name, &stored);
                json!({ "accepted": stored.accepted, "duplicates": stored.duplicates })
            }
        })
    }
}

/// The job's typed settings (its declared defaults filled in), or every problem with them.
pub fn settings_of<T: serde::de::DeserializeOwned>(job: &JobConfig) -> anyhow::Result<T> {
    cordial_jobs::settings::typed(job.kind, &job.settings).map_err(|problems| {
        let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
        anyhow::anyhow!("job `{}` settings: {}", job.name, lines.join("; "))
    })
}
