//! The Import Activity sequence over in-memory ports and a fake Cordial whose export job
//! runs as each test says.

use super::run;
use crate::activity::export::{CURSOR_KEY, WindowExport};
use crate::bulk::fake_cordial::{Ending, ModelJob};
use crate::bulk::harness::{Ports, Sequence, assert_resumes_after_dying_at_any_effect, ms};
use crate::cordial::jobs::PASSWORD_PLACEHOLDER;
use crate::job::{JobError, RunReport};
use crate::ports::fakes::MemoryStreams;
use crate::ports::{EmitSummary, PortError, Quarantined, StreamRecord, Streams};
use crate::scheduled::Following;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::hash::{Hash, Hasher};
use std::io::Write;

/// The export's name for the first window of the job `activity job` started at the
/// harness's clock, with `import_since` 2026-11-20.
const FIRST_EXPORT: &str = "activity-job-20261120000000-20261122130000";
const STREAM: &str = "cordial_activity";

fn record(i: u32) -> String {
    json!({
        "_id": format!("e{i}"),
        "cID": format!("c{}", i % 7),
        "action": "open",
        "time": "2026-11-21T10:00:00+0000",
        "first": i.is_multiple_of(2),
        "message_name": "welcome",
    })
    .to_string()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

/// Two files: 2,500 gzipped JSON lines with a broken line and a record without `_id` at
/// lines 1001 and 1002, then a JSON array of three records.
fn export_files() -> Vec<(String, Vec<u8>)> {
    let mut lines: Vec<String> = (1..=1000).map(record).collect();
    lines.push("{broken".into());
    lines.push(json!({"cID": "c9", "action": "open"}).to_string());
    lines.extend((1001..=2500).map(record));
    let array = format!(
        "[{}]",
        (2501..=2503).map(record).collect::<Vec<_>>().join(",\n")
    );
    vec![
        ("-1.json.gz".into(), gzip(lines.join("\n").as_bytes())),
        ("-2.json".into(), array.into_bytes()),
    ]
}

/// Streams that also note the size of every batch appended.
#[derive(Default)]
struct NotedStreams {
    streams: MemoryStreams,
    batches: Vec<usize>,
}

impl Streams for NotedStreams {
    fn append(&mut self, stream: &str, records: Vec<StreamRecord>) -> Result<(), PortError> {
        self.batches.push(records.len());
        self.streams.append(stream, records)
    }

    fn flush(&mut self) -> Result<EmitSummary, PortError> {
        self.streams.flush()
    }

    fn quarantine(&mut self, stream: &str, entries: &[Quarantined]) -> Result<(), PortError> {
        self.streams.quarantine(stream, entries)
    }
}

type World = Sequence<NotedStreams>;

impl World {
    fn with(settings: Value) -> World {
        let ports = Ports::new("activity job", settings);
        ports.model.borrow_mut().export_files = export_files();
        let streams = NotedStreams {
            streams: MemoryStreams {
                crash: ports.crash.clone(),
                ..MemoryStreams::default()
            },
            batches: Vec::new(),
        };
        Sequence::new(ports, streams, |env, files, streams| {
            run(env, files, streams)
        })
    }

    fn since_20th() -> World {
        World::with(json!({"import_since": "2026-11-20", "export_deadline_minutes": 1}))
    }

    fn cursor(&self) -> Option<String> {
        let bytes = self.ports.state.entries.get(CURSOR_KEY)?;
        Some(String::from_utf8(bytes.clone()).unwrap())
    }

    fn window(&self) -> Option<WindowExport> {
        self.checkpoint()
    }

    fn exports(&self) -> Vec<ModelJob> {
        self.cordial_jobs("ExportEvents")
    }

    fn records(&self) -> &[StreamRecord] {
        self.own
            .streams
            .records
            .get(STREAM)
            .map_or(&[], Vec::as_slice)
    }

    fn quarantined(&self) -> BTreeSet<(String, u64, String)> {
        self.own
            .streams
            .quarantined
            .get(STREAM)
            .into_iter()
            .flatten()
            .map(|q| (q.file.clone(), q.line, q.reason.clone()))
            .collect()
    }

    /// What a run leaves behind, to compare runs: the stream as its length and a digest
    /// (so a failed comparison stays readable), the quarantine, the exports Cordial was
    /// asked for, the job's state and the folder.
    fn end_state(&self) -> impl PartialEq + std::fmt::Debug + use<> {
        let mut digest = std::collections::hash_map::DefaultHasher::new();
        for record in self.records() {
            (&record.key, &record.body).hash(&mut digest);
        }
        (
            (self.records().len(), digest.finish()),
            self.quarantined(),
            self.exports()
                .iter()
                .map(|j| j.body.clone())
                .collect::<Vec<_>>(),
            self.ports.state.entries.clone(),
            self.ports.files.names(),
        )
    }
}

#[test]
fn a_window_is_exported_streamed_and_closed() {
    let mut w = World::since_20th();
    w.ports.model.borrow_mut().polls_before_end = 2;
    let (report, waits) = w.run();
    let report = report.unwrap();
    assert_eq!(
        report,
        RunReport {
            records_read: 2505,
            records_written: 2503,
            records_rejected: 2,
            summary: "imported 2503 record(s) of 2026-11-20T00:00:00Z → 2026-11-22T13:00:00Z \
                      from 2 file(s); 2 malformed record(s) quarantined (see `cordial-host \
                      quarantine`); cursor at 2026-11-22T13:00:00Z"
                .to_owned(),
        }
    );
    assert_eq!(waits, ms(&[100, 200]), "one poll per call, backing off");
    assert!(w.ports.clock.slept.is_empty(), "{:?}", w.ports.clock.slept);

    let exports = w.exports();
    assert_eq!(exports.len(), 1);
    let body = &exports[0].body;
    assert_eq!(body["name"], FIRST_EXPORT);
    assert_eq!(body["selected_timeframe_start"], "2026-11-20T00:00:00Z");
    assert_eq!(body["selected_timeframe_end"], "2026-11-22T13:00:00Z");
    assert_eq!(body["destination"]["path"], "/upload");
    assert_eq!(body["destination"]["server"], "sftp.test");
    assert_eq!(body["destination"]["password"], PASSWORD_PLACEHOLDER);

    let keys: Vec<String> = w.records().iter().map(|r| r.key.clone().unwrap()).collect();
    let expected: Vec<String> = (1..=2503).map(|i| format!("e{i}")).collect();
    assert_eq!(keys, expected, "every record once, in file order");
    let first: Value = serde_json::from_str(&w.records()[0].body).unwrap();
    assert_eq!(first["cr_system_event_id"], "e1");
    assert_eq!(first["cr_event_timestamp"], "2026-11-21T10:00:00Z");
    assert_eq!(first["cr_first"], false);
    assert_eq!(w.own.batches, [2000, 500, 3], "batches of at most 2,000");

    let gz = format!("{FIRST_EXPORT}-1.json.gz");
    let quarantined: Vec<(String, u64)> = w
        .quarantined()
        .into_iter()
        .map(|(f, l, _)| (f, l))
        .collect();
    assert_eq!(quarantined, [(gz.clone(), 1001), (gz, 1002)]);
    assert!(
        w.quarantined()
            .iter()
            .any(|(_, _, why)| why.contains("`_id`"))
    );

    assert_eq!(w.cursor().as_deref(), Some("2026-11-22T13:00:00Z"));
    assert_eq!(w.window(), None, "the window is closed");
    assert!(w.ports.files.names().is_empty(), "the files are removed");
}

#[test]
fn the_next_window_reaches_back_by_the_overlap_and_stores_nothing_twice() {
    let mut w = World::since_20th();
    w.run().0.unwrap();
    w.ports.clock.now += chrono::Duration::hours(1);
    let report = w.run().0.unwrap();
    let exports = w.exports();
    assert_eq!(exports.len(), 2);
    assert_eq!(
        exports[1].body["selected_timeframe_start"], "2026-11-22T12:00:00Z",
        "the cursor minus the default hour of overlap"
    );
    assert_eq!(
        exports[1].body["selected_timeframe_end"],
        "2026-11-22T14:00:00Z"
    );
    assert_eq!(
        w.records().len(),
        2503,
        "the same records again are skipped"
    );
    assert_eq!(
        report.records_written, 2503,
        "found already stored counts as stored"
    );
    assert_eq!(w.cursor().as_deref(), Some("2026-11-22T14:00:00Z"));
}

#[test]
fn kept_files_stay_in_the_folder() {
    let mut w = World::with(json!({"import_since": "2026-11-20", "keep_files": true}));
    w.run().0.unwrap();
    assert_eq!(
        w.ports.files.names(),
        [
            format!("{FIRST_EXPORT}-1.json.gz"),
            format!("{FIRST_EXPORT}-2.json")
        ]
    );
}

#[test]
fn a_processing_export_is_polled_once_per_call_without_sleeping() {
    let mut w = World::since_20th();
    w.assert_polled_once_per_call(FIRST_EXPORT, following, |_, following| {
        assert_eq!(following.since.as_deref(), Some("2026-11-22T13:00:00.000Z"));
    });
    assert_eq!(w.exports().len(), 1);
}

#[test]
fn an_export_still_running_at_the_deadline_is_left_to_the_next_run() {
    let mut w = World::since_20th();
    let window = w.run_past_the_deadline(following);
    assert_eq!(window.job_id.as_deref(), Some("job-1"));
    assert_eq!(w.cursor(), None);

    // The next run follows the same export up, with a deadline of its own.
    w.run_once_cordial_is_done();
    assert_eq!(w.exports().len(), 1, "the export is asked for once");
    assert_eq!(w.records().len(), 2503);
    assert_eq!(w.cursor().as_deref(), Some("2026-11-22T13:00:00Z"));
}

#[test]
fn a_failed_export_drops_the_window_and_keeps_the_cursor() {
    let mut w = World::since_20th();
    w.ports
        .state
        .entries
        .insert(CURSOR_KEY.into(), b"2026-11-22T12:00:00Z".to_vec());
    w.ports.model.borrow_mut().ending =
        Ending::Failed("Can't login to the server (sftp.test)".into());
    let Err(JobError::Permanent(message)) = w.run().0 else {
        panic!("a failed export is permanent");
    };
    assert!(message.contains("Can't login to the server"), "{message}");
    assert!(
        message.contains("the cursor stays at 2026-11-22T11:00:00Z"),
        "{message}"
    );
    assert_eq!(w.window(), None, "the next run asks again");
    assert_eq!(w.cursor().as_deref(), Some("2026-11-22T12:00:00Z"));
    assert!(w.records().is_empty());

    w.ports.model.borrow_mut().ending = Ending::Done;
    w.run().0.unwrap();
    let exports = w.exports();
    assert_eq!(exports.len(), 2);
    assert_eq!(
        exports[0].body, exports[1].body,
        "the same window asked for again"
    );
}

#[test]
fn a_broken_gzip_file_fails_the_run_and_keeps_the_cursor() {
    let mut w = World::since_20th();
    let mut garbage = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3];
    garbage.extend_from_slice(&[0xff; 64]);
    let good = (1..=3).map(record).collect::<Vec<_>>().join("\n");
    w.ports.model.borrow_mut().export_files = vec![
        ("-1.json".into(), good.into_bytes()),
        ("-2.json.gz".into(), garbage),
    ];
    let Err(JobError::Permanent(message)) = w.run().0 else {
        panic!("a broken file is permanent");
    };
    assert!(
        message.contains(&format!("{FIRST_EXPORT}-2.json.gz cannot be read")),
        "{message}"
    );
    assert!(message.contains("the cursor stays put"), "{message}");
    assert_eq!(w.cursor(), None);
    let window = w
        .window()
        .expect("the window stays for a run after the file is fixed");
    assert_eq!(window.imported, [format!("{FIRST_EXPORT}-1.json")]);
    assert_eq!(window.records, 3);
    assert_eq!(w.records().len(), 3, "the good file's records are stored");
}

#[test]
fn a_connection_lost_while_reading_is_transient_and_the_file_is_read_again() {
    let mut w = World::since_20th();
    w.ports.files.dropping_reads = true;
    let (result, _) = w.run();
    let Err(JobError::Transient(message)) = result else {
        panic!("a lost connection is transient, got {result:?}");
    };
    assert!(message.contains("reset by peer"), "{message}");
    assert!(w.window().is_some());
    assert_eq!(w.cursor(), None);
    w.ports.files.dropping_reads = false;
    w.run().0.unwrap();
    assert_eq!(w.records().len(), 2503);
    assert_eq!(w.exports().len(), 1);
}

#[test]
fn rate_limits_are_waited_out_for_their_retry_after() {
    let mut w = World::since_20th();
    assert_eq!(w.run_rate_limited(2).records_written, 2503);
    assert_eq!(w.exports().len(), 1);
}

#[test]
fn a_run_that_dies_at_any_effect_resumes_to_the_same_end() {
    let reference_world = || {
        let w = World::since_20th();
        w.ports.model.borrow_mut().polls_before_end = 2;
        w
    };
    let mut reference = reference_world();
    reference.run().0.unwrap();
    assert_eq!(
        reference.exports().len(),
        1,
        "one export, as after each death"
    );
    assert_resumes_after_dying_at_any_effect(reference_world, 15, World::end_state);
}

/// The window's following of Cordial's export.
fn following(window: &WindowExport) -> &Following {
    &window.following
}
