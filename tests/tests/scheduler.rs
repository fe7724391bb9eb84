//! The scheduler inside the real `cordial-host serve`, driving a real Import Activity job
//! against the emulator on seconds-level and hourly cron schedules. What it guarantees: each
//! slot fires once, a restart (even a crash mid-run) never fires a slot again, slots missed
//! while the host was down give one catch-up run, and a slot that comes while a run of the
//! job is in progress is skipped with a warning. Every assertion reads the slots the host
//! logged and the exports Cordial received, never the clock.

use chrono::{DateTime, Duration as Span, Timelike, Utc};
use cordial_e2e::activity::{Activity, event};
use cordial_e2e::cli::ServeProcess;
use cordial_e2e::schedule_log::{DONE, NEXT, SKIPPING, STARTING, lines, started_slots, wait_for};
use cordial_host::db::FileLock;
use cordial_host::scheduler::{Schedule, record_fired};
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(60);

/// An account with one event to export, and the `activity` job on `frequency`.
async fn activity_on(frequency: &str) -> (Activity, String) {
    let hour_ago = Utc::now() - Span::hours(1);
    let a = Activity::with_events(vec![event("sched1", "open", hour_ago)]).await;
    let config = a.config(&format!("frequency = \"{frequency}\"\n"));
    (a, config)
}

/// How many activity exports Cordial was asked for: one per run.
fn exports(a: &Activity) -> usize {
    a.h.emulator
        .handle()
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path.starts_with("/v2/contactactivityexport"))
        .count()
}

/// A job that never fired waits for its first slot, then fires each slot once, in order,
/// each run one export.
#[tokio::test(flavor = "multi_thread")]
async fn each_slot_fires_once() {
    let every_2s = "*/2 * * * * *";
    let (a, config) = activity_on(every_2s).await;
    let started = Utc::now();
    let mut host = ServeProcess::start(&a.h, &config).await;
    wait_for(&host, 0, DONE, 3, LIMIT).await;
    assert!(host.terminate().await, "{}", host.log());

    let log = host.log();
    let slots = started_slots(&log);
    assert!(slots.len() >= 3, "{log}");
    assert!(
        slots[0] > started,
        "a job that never fired ran at once instead of waiting for its first slot:\n{log}"
    );
    let schedule = Schedule::parse(every_2s).unwrap();
    let skipped: Vec<_> = lines(&log, SKIPPING)
        .iter()
        .map(|l| l.time("slot"))
        .collect();
    for pair in slots.windows(2) {
        assert!(
            pair[1] > pair[0],
            "a slot fired twice or out of order:\n{log}"
        );
        // The slot after each run fires, unless that run outlasted it (a slow machine):
        // then the slots passed are skipped with a warning up to the one before.
        let follows = |from| schedule.next_after(from) == pair[1];
        assert!(
            follows(pair[0]) || skipped.iter().any(|s| *s > pair[0] && follows(*s)),
            "a slot was passed over:\n{log}"
        );
    }
    for slot in &slots {
        assert_eq!(
            *slot,
            schedule.next_after(*slot - Span::seconds(2)),
            "{slot} is no slot"
        );
    }
    assert_eq!(exports(&a), slots.len(), "runs and exports differ:\n{log}");
}

/// A once-a-day schedule whose slot falls a few seconds from now, and that slot.
fn daily_soon() -> (String, DateTime<Utc>) {
    let slot = (Utc::now() + Span::seconds(4)).with_nanosecond(0).unwrap();
    let cron = format!("{} {} {} * * *", slot.second(), slot.minute(), slot.hour());
    (cron, slot)
}

/// The host is killed in the middle of the run of a slot and started again while the slot
/// is still the latest: the slot was recorded as fired before its run began, so the restart
/// waits for the next one instead of running it again.
#[tokio::test(flavor = "multi_thread")]
async fn a_restart_inside_a_slot_does_not_fire_it_again() {
    let (daily, slot) = daily_soon();
    let (a, config) = activity_on(&daily).await;
    // It fired yesterday, so the slot is the next one due, whenever the host gets to it.
    record_fired(&a.h.store(), "activity", slot - Span::days(1)).unwrap();
    let mut host = ServeProcess::start(&a.h, &config).await;
    // Slow Cordial down so that the run is still going when the host is killed.
    a.h.emulator.handle().set_latency(Duration::from_secs(2));
    let log = wait_for(&host, 0, STARTING, 1, LIMIT).await;
    host.kill().await;
    assert_eq!(started_slots(&log), [slot], "{log}");
    assert!(
        lines(&host.log(), DONE).is_empty(),
        "the run ended before the kill, which then tested nothing:\n{}",
        host.log()
    );

    a.h.emulator.handle().set_latency(Duration::ZERO);
    let before_restart = host.log().len();
    host.restart().await;
    let after = wait_for(&host, before_restart, NEXT, 1, LIMIT).await;
    assert!(host.terminate().await, "{}", host.log());
    assert!(
        started_slots(&after).is_empty(),
        "the restart fired the slot again:\n{}",
        host.log()
    );
    assert_eq!(lines(&after, NEXT)[0].time("next"), slot + Span::days(1));
}

/// The host was down for five hourly slots: it starts with one catch-up run, recorded as the
/// latest of them, then waits for the next slot.
#[tokio::test(flavor = "multi_thread")]
async fn slots_missed_while_down_give_one_catch_up_run() {
    let hourly = Schedule::parse("hourly").unwrap();
    let (a, config) = activity_on("hourly").await;
    let now = Utc::now();
    let current = now.with_nanosecond(0).unwrap()
        - Span::seconds(i64::from(now.second()))
        - Span::minutes(i64::from(now.minute()));
    let last = current - Span::hours(5);
    record_fired(&a.h.store(), "activity", last).unwrap();
    let mut host = ServeProcess::start(&a.h, &config).await;
    let log = wait_for(&host, 0, NEXT, 1, LIMIT).await;
    assert!(host.terminate().await, "{}", host.log());

    let slots = started_slots(&log);
    assert_eq!(slots.len(), 1, "not one catch-up run:\n{log}");
    // The latest missed slot (or the one after, had the hour turned meanwhile).
    assert!(
        slots[0] >= current && slots[0] <= current + Span::hours(1),
        "{log}"
    );
    assert_eq!(
        lines(&log, NEXT)[0].time("next"),
        hourly.next_after(slots[0])
    );
    assert_eq!(exports(&a), 1);
    assert_eq!(
        cordial_host::scheduler::last_fired(&a.h.store(), "activity"),
        Some(slots[0])
    );
    // `status` names the same next slot as the loop did.
    let config_file = a.h.config_file(&config);
    let status = cordial_e2e::cli::host(&[&"status", &config_file, &"--json"]).await;
    assert!(status.ok, "{status}");
    let job: serde_json::Value = serde_json::from_str(status.stdout.trim()).unwrap();
    assert_eq!(
        job["next_slot"],
        hourly
            .next_after(slots[0])
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
}

/// While another process holds the job's run lock (a `cordial-host run` of it), the slot
/// that comes is skipped with a warning naming it, nothing runs, and the skipped slot is not
/// caught up afterwards: the next run is for a later slot.
#[tokio::test(flavor = "multi_thread")]
async fn a_slot_is_skipped_while_another_run_holds_the_lock() {
    let (a, config) = activity_on("*/2 * * * * *").await;
    let lock = FileLock::run(&a.h.store_path(), "activity").unwrap();
    let mut host = ServeProcess::start(&a.h, &config).await;
    let log = wait_for(&host, 0, SKIPPING, 1, LIMIT).await;
    let skipped = lines(&log, SKIPPING)[0].clone();
    assert!(skipped.text.contains("WARN"), "{}", skipped.text);
    assert!(
        skipped.text.contains("already in progress"),
        "{}",
        skipped.text
    );
    let skipped = skipped.time("slot");
    assert!(
        started_slots(&host.log()).is_empty(),
        "a run overlapped the one holding the lock"
    );
    assert_eq!(exports(&a), 0, "a run overlapped the one holding the lock");

    drop(lock);
    let log = wait_for(&host, 0, STARTING, 1, LIMIT).await;
    assert!(host.terminate().await, "{}", host.log());
    let ran = started_slots(&log);
    assert!(
        ran[0] > skipped,
        "the skipped slot {skipped} ran after all:\n{log}"
    );
}

/// SIGTERM while a run outlasts its slot: that run finishes, and no other starts once the
/// host is shutting down, though a slot passed while it ran.
#[tokio::test(flavor = "multi_thread")]
async fn no_run_starts_once_the_host_is_shutting_down() {
    let (a, config) = activity_on("* * * * * *").await;
    let mut host = ServeProcess::start(&a.h, &config).await;
    a.h.emulator
        .handle()
        .set_latency(Duration::from_millis(1500));
    wait_for(&host, 0, STARTING, 1, LIMIT).await;
    assert!(host.terminate().await, "{}", host.log());

    let log = host.log();
    let stopping = lines(&log, "shutting down")[0].at;
    let done = lines(&log, DONE);
    assert!(
        done.iter().any(|l| l.at > stopping),
        "no run was in progress at the SIGTERM, which then tested nothing:\n{log}"
    );
    assert!(
        lines(&log, STARTING).iter().all(|l| l.at < stopping),
        "a scheduled run started after shutdown began:\n{log}"
    );
}

/// Runs that outlast their slot (Cordial answering slowly, a slot every second): the slots
/// that pass while a run is in progress are skipped with a warning, not run back to back
/// once it ends, so every run starts for a slot that came after the previous run ended.
#[tokio::test(flavor = "multi_thread")]
async fn slots_passing_during_a_run_are_skipped_with_a_warning() {
    let (a, config) = activity_on("* * * * * *").await;
    let mut host = ServeProcess::start(&a.h, &config).await;
    a.h.emulator
        .handle()
        .set_latency(Duration::from_millis(1500));
    wait_for(&host, 0, DONE, 3, LIMIT).await;
    assert!(host.terminate().await, "{}", host.log());

    let log = host.log();
    let (started, done) = (lines(&log, STARTING), lines(&log, DONE));
    for (next, previous_done) in started.iter().skip(1).zip(&done) {
        assert!(
            next.time("slot") > previous_done.at,
            "a run started for a slot that passed while the previous run was in progress:\n{log}"
        );
    }
    let skipped = lines(&log, SKIPPING);
    assert!(!skipped.is_empty(), "no slot was skipped:\n{log}");
    for line in &skipped {
        assert!(line.text.contains("WARN"), "{}", line.text);
        assert!(line.text.contains("still in progress"), "{}", line.text);
        assert!(
            !started.iter().any(|s| s.time("slot") == line.time("slot")),
            "the skipped slot ran:\n{log}"
        );
    }
}
