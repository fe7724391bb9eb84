//! A job's log: structured lines on `wasi:cli/stderr` (`{"level":"info","message":"…"}`,
//! one per line), the route every runtime carries, routed here to `tracing` inside the
//! call's span, which names the job and the run. Anything else a job writes to stderr (a panic message) is logged as it is,
//! as a warning. The host redacts nothing: a job never holds a secret to leak.

use bytes::Bytes;
use cordial_jobs::ports::Level;
use std::sync::{Arc, Mutex};
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError};

/// A line longer than this is logged in pieces rather than held whole.
const MAX_LINE: usize = 64 << 10;

/// What one call may write to its log. A job that logs without end (a loop printing) would
/// otherwise fill the host's log, and whatever collects it, until its deadline; past this
/// the rest of the call's output is dropped and counted, and one line says how much.
pub const MAX_CALL_LOG: usize = 1 << 20;

/// The stderr of one call.
#[derive(Clone, Default)]
pub struct JobLog {
    inner: Arc<Mutex<Written>>,
}

#[derive(Default)]
struct Written {
    /// The start of a line not yet ended: a line may arrive in several writes.
    partial: Vec<u8>,
    /// Bytes taken so far, up to [`MAX_CALL_LOG`].
    taken: usize,
    /// Bytes written past [`MAX_CALL_LOG`], dropped.
    dropped: u64,
}

impl JobLog {
    fn take(&self, bytes: &[u8]) {
        let mut written = self.inner.lock().expect("log buffer poisoned");
        let room = MAX_CALL_LOG - written.taken;
        let (kept, over) = bytes.split_at(bytes.len().min(room));
        written.taken += kept.len();
        written.dropped += over.len() as u64;
        let partial = &mut written.partial;
        partial.extend_from_slice(kept);
        while let Some(end) = partial.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = partial.drain(..=end).collect();
            self.emit(&line[..end]);
        }
        if partial.len() > MAX_LINE || (!over.is_empty() && !partial.is_empty()) {
            let line = std::mem::take(partial);
            self.emit(&line);
        }
    }

    /// The line saying how much of the call's log was dropped, if any was.
    pub fn dropped(&self) -> Option<String> {
        let dropped = self.inner.lock().expect("log buffer poisoned").dropped;
        (dropped > 0).then(|| {
            format!(
                "dropped {dropped} bytes of the job's log: a call may log {} KiB",
                MAX_CALL_LOG >> 10
            )
        })
    }

    fn emit(&self, line: &[u8]) {
        let text = String::from_utf8_lossy(line);
        let text = text.trim_end();
        if text.is_empty() {
            return;
        }
        match structured(text) {
            Some((Level::Debug, m)) => tracing::debug!("{m}"),
            Some((Level::Info, m)) => tracing::info!("{m}"),
            Some((Level::Warn, m)) => tracing::warn!("{m}"),
            Some((Level::Error, m)) => tracing::error!("{m}"),
            None => tracing::warn!(stderr = true, "{text}"),
        }
    }
}

/// The level and message of a structured line.
fn structured(text: &str) -> Option<(Level, String)> {
    #[derive(serde::Deserialize)]
    struct Line {
        level: String,
        message: String,
    }
    let line: Line = serde_json::from_str(text).ok()?;
    Some((Level::parse(&line.level)?, line.message))
}

impl IsTerminal for JobLog {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for JobLog {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

impl OutputStream for JobLog {
    fn write(&mut self, bytes: Bytes) -> Result<(), StreamError> {
        self.take(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> Result<(), StreamError> {
        Ok(())
    }

    fn check_write(&mut self) -> Result<usize, StreamError> {
        Ok(MAX_LINE)
    }
}

#[async_trait::async_trait]
impl Pollable for JobLog {
    async fn ready(&mut self) {}
}

impl tokio::io::AsyncWrite for JobLog {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        self.take(buf);
        std::task::Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn structured_lines_carry_their_level_and_others_are_kept_whole() {
        assert_eq!(
            structured(r#"{"level":"warn","message":"3 records quarantined"}"#),
            Some((Level::Warn, "3 records quarantined".to_owned()))
        );
        assert_eq!(
            structured("thread '<unnamed>' panicked at src/lib.rs:3"),
            None
        );
        assert_eq!(structured(r#"{"level":"loud","message":"x"}"#), None);
    }

    #[test]
    fn a_line_split_over_writes_is_logged_once_whole() {
        let log = JobLog::default();
        log.take(br#"{"level":"info","mess"#);
        assert_eq!(log.inner.lock().unwrap().partial.len(), 21);
        log.take(b"age\":\"hello\"}\n{\"level\"");
        assert_eq!(&log.inner.lock().unwrap().partial, br#"{"level""#);
    }

    #[test]
    fn what_a_call_writes_past_its_limit_is_dropped_and_counted() {
        let log = JobLog::default();
        assert_eq!(log.dropped(), None);
        let line = [b'x'; 1023]
            .iter()
            .chain(b"\n")
            .copied()
            .collect::<Vec<u8>>();
        for _ in 0..MAX_CALL_LOG / 1024 {
            log.take(&line);
        }
        assert_eq!(log.dropped(), None, "exactly the limit is kept");
        log.take(&line);
        log.take(b"tail");
        assert_eq!(log.inner.lock().unwrap().taken, MAX_CALL_LOG);
        assert_eq!(
            log.dropped().as_deref(),
            Some("dropped 1028 bytes of the job's log: a call may log 1024 KiB")
        );
    }
}
