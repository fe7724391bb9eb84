//! `cordial-host serve`'s intake under attack, through the real binary: deeply nested JSON,
//! invalid UTF-8, duplicate keys, a body of tiny events just under and over the limit,
//! bodies and headers that trickle in (slowloris) and a thousand idle connections. Each
//! gets a clear answer (or is cut off at the intake timeout), another job's webhook is
//! still accepted and delivered, and the host's peak memory stays bounded (printed, and
//! held to a generous bound).

use cordial_e2e::audience_events::default_payload;
use cordial_e2e::cli::ServeProcess;
use cordial_e2e::harness::Harness;
use cordial_e2e::http::{post, status_for_announced_body};
use cordial_e2e::measure::peak_rss_mb;
use cordial_e2e::realtime_job::{FIRST_NAME_AND_AGE, vip};
use cordial_e2e::serving::wait_settled;
use serde_json::json;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

const DRAIN: Duration = Duration::from_secs(60);
/// A bound on the host's peak resident memory: generous, so that it fails only when a
/// request's size, not the machine, drives the memory.
const MEMORY_BOUND_MB: f64 = 512.0;

/// A host serving `vip`, with more `[host]` settings.
async fn host_with(h: &Harness, settings: &str) -> ServeProcess {
    ServeProcess::start_with(h, settings, &vip(FIRST_NAME_AND_AGE)).await
}

/// A host serving `vip` with the default intake timeout (30 s).
async fn host(h: &Harness) -> ServeProcess {
    host_with(h, "").await
}

/// A bystander's webhook is accepted and delivered while (or after) an attack: the host is
/// still serving its other work.
async fn still_delivers(h: &Harness, host: &ServeProcess, id: u64, email: &str) {
    let store = h.store();
    let done = store.queue_counts("vip").unwrap().done;
    let event = default_payload(id, email, "enter", "vip_customers", "");
    let (status, body) = post(&host.url("/hooks/vip"), event, &[]).await;
    assert_eq!(status, 202, "{body}");
    wait_settled(&store, "vip", done + 1, DRAIN).await;
    assert_eq!(h.lists(email), ["Lytics_vip_customers"]);
}

/// The host's peak resident memory so far, printed for the record and held to the bound.
fn memory_bounded(host: &ServeProcess, after: &str) {
    let peak = peak_rss_mb(host.pid()).expect("the host's /proc status");
    eprintln!("peak RSS of cordial-host serve after {after}: {peak:.0} MiB");
    assert!(peak < MEMORY_BOUND_MB, "{peak:.0} MiB after {after}");
}

/// Posts raw bytes as `application/json`: the status and the JSON answer.
async fn post_bytes(url: &str, body: Vec<u8>) -> (u16, serde_json::Value) {
    let response = cordial_e2e::http::client()
        .post(url)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread")]
async fn nesting_and_invalid_utf8_get_a_400_naming_the_problem_and_nothing_is_queued() {
    let h = Harness::start().await;
    let host = host(&h).await;
    let hook = host.url("/hooks/vip");

    // 100,000 brackets deep, closed: serde_json stops at its recursion limit (128), and
    // the host answers instead of overflowing its stack.
    let deep = [vec![b'['; 100_000], vec![b']'; 100_000]].concat();
    let (status, body) = post_bytes(&hook, deep).await;
    assert_eq!(status, 400, "{body}");
    let error = body["error"].as_str().unwrap();
    assert!(error.contains("recursion limit exceeded"), "{error}");
    // Never closed: the body ends inside them.
    let (status, body) = post_bytes(&hook, vec![b'['; 100_000]).await;
    assert_eq!(status, 400, "{body}");
    assert!(body["error"].as_str().unwrap().contains("EOF"), "{body}");
    // The same depth of objects.
    let (status, body) = post_bytes(&hook, b"{\"a\":".repeat(100_000)).await;
    assert_eq!(status, 400, "{body}");
    assert!(body["error"].as_str().unwrap().contains("recursion limit"));

    // A byte that is not UTF-8 inside the email.
    let mut bad = default_payload(1, "x@example.com", "enter", "vip_customers", "").into_bytes();
    let at = bad.windows(2).position(|w| w == b"x@").unwrap();
    bad[at] = 0xFF;
    let (status, body) = post_bytes(&hook, bad).await;
    assert_eq!(status, 400, "{body}");
    let error = body["error"].as_str().unwrap();
    assert!(error.contains("invalid unicode"), "{error}");

    assert_eq!(h.store().queue_counts("vip").unwrap().pending, 0);
    still_delivers(&h, &host, 2, "after-nesting@example.com").await;
    memory_bounded(&host, "nesting and invalid UTF-8");
}

/// JSON leaves duplicate keys undefined; the host reads them as serde_json and most parsers
/// do: the last one wins. (The platform's serialisers never repeat a key, so this decides
/// only for hand-made payloads.)
#[tokio::test(flavor = "multi_thread")]
async fn a_duplicate_key_takes_its_last_value() {
    let h = Harness::start().await;
    let host = host(&h).await;
    let event = default_payload(1, "first@example.com", "enter", "vip_customers", "").replacen(
        r#""email":"first@example.com""#,
        r#""email":"first@example.com","email":"last@example.com""#,
        1,
    );
    let (status, body) = post(&host.url("/hooks/vip"), event, &[]).await;
    assert_eq!(
        (status, body["accepted"].as_u64()),
        (202, Some(1)),
        "{body}"
    );
    wait_settled(&h.store(), "vip", 1, DRAIN).await;
    assert_eq!(h.lists("last@example.com"), ["Lytics_vip_customers"]);
    assert!(h.find_contact("first@example.com").is_none());
}

/// A batch of `users` copies of `user`, padded with whitespace to exactly `size` bytes.
fn batch_of(user: &str, users: usize, size: usize) -> Vec<u8> {
    let mut body = Vec::with_capacity(size);
    body.push(b'[');
    for i in 0..users {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(user.as_bytes());
    }
    assert!(
        body.len() < size,
        "{users} users do not fit in {size} bytes"
    );
    body.resize(size - 1, b' ');
    body.push(b']');
    body
}

/// Posts `body` to `url` from four senders at once: their answers.
async fn four_at_once(url: &str, body: &[u8]) -> Vec<(u16, serde_json::Value)> {
    let tasks: Vec<_> = (0..4)
        .map(|_| tokio::spawn(post_bytes_owned(url.to_owned(), body.to_vec())))
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    answers
}

async fn post_bytes_owned(url: String, body: Vec<u8>) -> (u16, serde_json::Value) {
    post_bytes(&url, body).await
}

/// 32 MiB of 75-byte users is 441,505 of them: four senders of such a body at once get a
/// `400` naming the limit of 50,000 users a batch, counted before any user is read. A body
/// of 32 MiB with 50,000 users (670 bytes each, like real users with a few fields) is read
/// from four senders at once; a byte over 32 MiB is refused on its length. Another webhook is
/// delivered afterwards and the host's peak memory stays bounded.
#[tokio::test(flavor = "multi_thread")]
async fn a_32_mib_batch_is_read_up_to_its_user_limit_and_a_byte_more_is_refused() {
    let h = Harness::start().await;
    let host = host(&h).await;
    let hook = host.url("/hooks/vip");
    let limit = 32 << 20;

    let tiny = r#"{"data":{"email":"a@b.io","segment_events":[{"event":"enter","slug":"z"}]}}"#;
    let tiny_users = (limit - 2) / (tiny.len() + 1);
    let body = batch_of(tiny, tiny_users, limit);
    for (status, answer) in four_at_once(&hook, &body).await {
        assert_eq!(status, 400, "{answer}");
        let error = answer["error"].as_str().unwrap();
        assert!(
            error.contains(&format!(
                "the batch has {tiny_users} users; at most 50000 are taken in one request"
            )),
            "{error}"
        );
    }
    memory_bounded(
        &host,
        &format!("four 32 MiB bodies of {tiny_users} tiny users at once"),
    );

    // Users of another audience: all of them read, none queued.
    let padding = "p".repeat(limit / 50_000 - tiny.len() - 20);
    let user = format!(
        r#"{{"data":{{"email":"a@b.io","note":"{padding}","segment_events":[{{"event":"enter","slug":"z"}}]}}}}"#
    );
    let body = batch_of(&user, 50_000, limit);
    for (status, answer) in four_at_once(&hook, &body).await {
        assert_eq!(status, 202, "{answer}");
        assert_eq!(answer["ignored_other_audiences"].as_u64(), Some(50_000));
    }
    memory_bounded(&host, "four 32 MiB bodies of 50,000 users at once");

    // Refused on its announced length, before the host reads any of it.
    assert_eq!(status_for_announced_body(&hook, limit + 1, &[]).await, 413);

    assert_eq!(h.store().queue_counts("vip").unwrap().pending, 0);
    still_delivers(&h, &host, 1, "after-the-flood@example.com").await;
    memory_bounded(&host, "32 MiB bodies");
}

/// The status code of the answer on `stream`, or `None` when the host closed the
/// connection without one; fails after 30 s.
async fn answer_or_close(stream: impl tokio::io::AsyncRead + Unpin) -> Option<u16> {
    let mut line = String::new();
    let read = tokio::time::timeout(
        Duration::from_secs(30),
        BufReader::new(stream).read_line(&mut line),
    )
    .await
    .expect("the host neither answered nor closed the connection");
    match read {
        Ok(0) | Err(_) => None,
        Ok(_) => line.split_whitespace().nth(1).and_then(|c| c.parse().ok()),
    }
}

/// Sends `bytes` one at a time, 200 ms apart, until they run out or the host stops reading.
fn trickle(mut writer: tokio::net::tcp::OwnedWriteHalf, bytes: Vec<u8>) {
    tokio::spawn(async move {
        for byte in bytes {
            if writer.write_all(&[byte]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
}

#[tokio::test(flavor = "multi_thread")]
async fn slow_bodies_slow_headers_and_idle_connections_are_cut_off_at_the_intake_timeout() {
    let h = Harness::start().await;
    let host = host_with(&h, "intake_timeout_secs = 2").await;
    let addr = host.url("").trim_start_matches("http://").to_owned();

    // A body announced at 1,000 bytes, arriving one byte every 200 ms (200 s in all):
    // answered 408 at the two-second intake timeout, however steadily it comes.
    let stream = TcpStream::connect(&addr).await.unwrap();
    let (read, mut write) = stream.into_split();
    let head = format!(
        "POST /hooks/vip HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\n\
         content-length: 1000\r\n\r\n"
    );
    write.write_all(head.as_bytes()).await.unwrap();
    trickle(write, vec![b' '; 1000]);
    let status = answer_or_close(read).await;
    assert_eq!(status, Some(408));

    // Headers that never end, a byte every 200 ms: the connection is closed.
    let stream = TcpStream::connect(&addr).await.unwrap();
    let (read, write) = stream.into_split();
    let headers = format!(
        "POST /hooks/vip HTTP/1.1\r\nhost: {addr}\r\n{}",
        "x".repeat(1000)
    );
    trickle(write, headers.into_bytes());
    let answer = answer_or_close(read).await;
    assert!(matches!(answer, None | Some(408)), "{answer:?}");

    // A thousand connections that send nothing: another webhook is still served, and each
    // idle connection is closed by the host at the intake timeout.
    let mut idle = Vec::new();
    for _ in 0..1000 {
        idle.push(TcpStream::connect(&addr).await.unwrap());
    }
    still_delivers(&h, &host, 1, "beside-the-idle@example.com").await;
    for mut stream in idle {
        let mut buf = [0u8; 64];
        let read = tokio::time::timeout(Duration::from_secs(30), stream.read(&mut buf))
            .await
            .expect("an idle connection is closed by the host");
        assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
    }
    memory_bounded(&host, "slow and idle connections");
}

/// The other routes' bodies at their limits, made of the smallest elements JSON has (a
/// million `1`s and more): each gets its `400` naming the first element at fault, and the
/// host's memory stays bounded while it reads them.
#[tokio::test(flavor = "multi_thread")]
async fn activity_pushes_and_submissions_of_tiny_elements_at_their_limits_are_refused() {
    use cordial_e2e::activity::Activity;
    let a = Activity::start().await;
    let secret = a.h.dir.path().join("push-secret");
    std::fs::write(&secret, "s3cret").unwrap();
    let jobs = format!(
        "{}{}",
        a.config(&format!(
            "[job.webhook]\nsecret_file = \"{}\"\n",
            secret.display()
        )),
        cordial_e2e::capture::capture_job("quiz", ""),
    );
    let host = ServeProcess::start(&a.h, &jobs).await;
    for (route, limit, place) in [
        ("/cordial-events/activity", 16 << 20, "path"),
        ("/capture/quiz", 4 << 20, "field"),
    ] {
        let body = batch_of("1", (limit - 2) / 2, limit);
        let response = cordial_e2e::http::client()
            .post(host.url(route))
            .header("content-type", "application/json")
            .header("authorization", "Bearer s3cret")
            .body(body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let answer: serde_json::Value = response.json().await.unwrap();
        assert_eq!(
            (status, &answer[place]),
            (400, &json!("[0]")),
            "{route}: {answer}"
        );
        memory_bounded(&host, &format!("{} MiB of `1`s to {route}", limit >> 20));
    }
}
