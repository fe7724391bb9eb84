//! The store failing under `cordial-host serve`, through the binary. While another process
//! holds the SQLite file's write lock, a webhook is answered `503` (retry later) and
//! nothing of it is kept; once the lock is released the same webhook is accepted and
//! delivered once. While the file turns read-only (immutable, which stops root too) or the
//! disk fills (a file-size limit set on the running process), deliveries already under way
//! wait to be recorded, intake answers `503` and `/readyz` says the store; once the fault
//! clears, everything acknowledged is delivered, in order per contact.

use cordial_e2e::audience_events::{batch, default_payload};
use cordial_e2e::cli::ServeProcess;
use cordial_e2e::harness::Harness;
use cordial_e2e::http::{get, post};
use cordial_e2e::realtime_job::vip;
use cordial_e2e::serving::{wait_for_a_request, wait_settled};
use cordial_host::db::Db;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread")]
async fn a_locked_store_answers_503_keeps_nothing_and_takes_the_retry_once_it_is_free() {
    let h = Harness::start().await;
    let mut host = ServeProcess::start(&h, &vip("")).await;
    let events: Vec<String> = (0..3)
        .map(|i| {
            default_payload(
                i,
                &format!("f{i}@example.com"),
                "enter",
                "vip_customers",
                "",
            )
        })
        .collect();

    let other = rusqlite::Connection::open(h.store_path()).unwrap();
    other.execute_batch("BEGIN EXCLUSIVE").unwrap();
    // The host waits for the lock as long as its store allows, then tells the sender to
    // retry rather than pretend.
    let (status, body) = post(&host.url("/hooks/vip"), batch(&events), &[]).await;
    assert_eq!(status, 503, "{body}");
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|e| e.contains("could not be stored; retry later")),
        "{body}"
    );
    other.execute_batch("ROLLBACK").unwrap();
    drop(other);

    let store = Db::open(&h.store_path()).unwrap();
    assert_eq!(
        store.queue_counts("vip").unwrap().pending,
        0,
        "nothing kept of the refused webhook"
    );
    let (status, body) = post(&host.url("/hooks/vip"), batch(&events), &[]).await;
    assert_eq!(status, 202, "{body}");
    let counts = wait_settled(&store, "vip", 3, Duration::from_secs(60)).await;
    assert_eq!((counts.done, counts.dead), (3, 0));
    for i in 0..3 {
        assert_eq!(
            h.lists(&format!("f{i}@example.com")),
            ["Lytics_vip_customers"]
        );
    }
    host.kill().await;
}

/// A fault set on the store of a running host, cleared when dropped (so a failing test
/// leaves no immutable file or limit behind).
trait Fault {
    fn clear(&mut self);
}

/// `chattr +i` on the store and its write-ahead log: every write to them fails, even root's.
struct Immutable(Vec<PathBuf>);

impl Immutable {
    fn set(store: &Path) -> Immutable {
        let files = vec![
            store.to_owned(),
            PathBuf::from(format!("{}-wal", store.display())),
        ];
        for f in &files {
            assert!(f.exists(), "{} missing", f.display());
            chattr("+i", f);
        }
        Immutable(files)
    }
}

fn chattr(flag: &str, file: &Path) {
    let status = Command::new("chattr").arg(flag).arg(file).status().unwrap();
    assert!(status.success(), "chattr {flag} {}", file.display());
}

impl Fault for Immutable {
    fn clear(&mut self) {
        for f in self.0.drain(..) {
            chattr("-i", &f);
        }
    }
}

impl Drop for Immutable {
    fn drop(&mut self) {
        self.clear();
    }
}

/// A file-size limit of one byte on the host process (the soft limit only, which may be
/// raised again without privileges): a write that would grow a file fails
/// with `EFBIG`, as on a full disk (SQLite's files only grow as it writes).
struct FullDisk(Option<u32>);

impl FullDisk {
    fn set(pid: u32) -> FullDisk {
        prlimit(pid, "1:");
        FullDisk(Some(pid))
    }
}

fn prlimit(pid: u32, size: &str) {
    let status = Command::new("prlimit")
        .args(["--pid", &pid.to_string(), &format!("--fsize={size}")])
        .status()
        .unwrap();
    assert!(status.success(), "prlimit --fsize={size}");
}

impl Fault for FullDisk {
    fn clear(&mut self) {
        if let Some(pid) = self.0.take() {
            prlimit(pid, "unlimited:");
        }
    }
}

impl Drop for FullDisk {
    fn drop(&mut self) {
        self.clear();
    }
}

const CONTACTS: u64 = 4;

/// What the host logs when the store refuses a delivery's outcomes and it holds them.
const HELD: &str = "recording outcomes failed; trying again";

fn enter(i: u64) -> String {
    default_payload(
        i,
        &format!("r{i}@example.com"),
        "enter",
        "vip_customers",
        "",
    )
}

/// `/readyz`'s status and its store check's detail.
async fn store_readiness(host: &ServeProcess) -> (u16, String) {
    let (status, body) = get(&host.url("/readyz")).await;
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    let store = body["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "store")
        .unwrap();
    (status, store["detail"].as_str().unwrap().to_owned())
}

/// Deliveries under way (one contact per call, Cordial answering after 400 ms) when
/// `fault` strikes the store (given the host and its store's path); a webhook during the
/// fault; with `until_held`, the fault kept until the host logs that a delivery's outcomes
/// wait to be recorded; the fault cleared; the webhook again. Returns the host's log.
async fn through_a_fault(
    fault: impl FnOnce(&ServeProcess, &Path) -> Box<dyn Fault>,
    until_held: bool,
) -> String {
    let h = Harness::start().await;
    h.emulator.handle().set_latency(Duration::from_millis(400));
    let job = vip("[job.delivery]\nconcurrency = 1\nbatch_size = 1\n");
    let mut host = ServeProcess::start(&h, &job).await;
    let before = h.emulator.handle().requests().len();
    let accepted: Vec<String> = (0..CONTACTS).map(enter).collect();
    let (status, _) = post(&host.url("/hooks/vip"), batch(&accepted), &[]).await;
    assert_eq!(status, 202);
    wait_for_a_request(&h, before).await;

    let mut fault = fault(&host, &h.store_path());
    // r0 leaves after entering, and r4 is new: the order per contact must hold across the
    // fault.
    let later = vec![
        default_payload(10, "r0@example.com", "exit", "vip_customers", ""),
        enter(CONTACTS),
    ];
    let (status, body) = post(&host.url("/hooks/vip"), batch(&later), &[]).await;
    assert_eq!(status, 503, "{body}");
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|e| e.contains("retry later")),
        "{body}"
    );
    let (ready, detail) = store_readiness(&host).await;
    assert_eq!(ready, 503, "{detail}");

    if until_held {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while !host.log().contains(HELD) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "no delivery's record met the fault: {}",
                host.log()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    fault.clear();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while store_readiness(&host).await.0 != 200 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "not ready after the fault cleared"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (status, body) = post(&host.url("/hooks/vip"), batch(&later), &[]).await;
    assert_eq!(status, 202, "{body}");

    let store = Db::open(&h.store_path()).unwrap();
    let counts = wait_settled(&store, "vip", CONTACTS + 2, Duration::from_secs(60)).await;
    assert_eq!((counts.done, counts.dead), (CONTACTS + 2, 0), "{counts:?}");
    assert!(
        h.lists("r0@example.com").is_empty(),
        "r0 left after entering"
    );
    for i in 1..=CONTACTS {
        assert_eq!(
            h.lists(&format!("r{i}@example.com")),
            ["Lytics_vip_customers"]
        );
    }
    let log = host.log();
    host.kill().await;
    log
}

#[tokio::test(flavor = "multi_thread")]
async fn a_read_only_store_refuses_intake_holds_outcomes_until_it_is_writable_and_loses_nothing() {
    // The fault outlasts a delivery's record: the worker holds the outcomes and tries again
    // (before, they were dropped until a restart, and r0's exit could overtake its enter).
    let log = through_a_fault(|_, store| Box::new(Immutable::set(store)), true).await;
    assert!(log.contains(HELD), "{log}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_disk_refuses_intake_and_the_host_recovers_when_space_returns() {
    // The host's own log file cannot grow either, so nothing is waited for in it; the
    // file-size signal must not end the host, nor a log line it cannot write.
    through_a_fault(|host, _| Box::new(FullDisk::set(host.pid())), false).await;
}
