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

/// The stderr of one call.
#[derive(Clone, Default)]
pub struct JobLog {
    /// The start of a line not yet ended: a line may arrive in several writes.
    partial: Arc<Mutex<Vec<u8>>>,
}

impl JobLog {
    fn take(&self, bytes: &[u8]) {
        let mut partial = self.partial.lock().expect("log buffer poisoned");
        partial.extend_from_slice(bytes);
        while let Some(end) = partial.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = partial.drain(..=end).collect();
            self.emit(&line[..end]);
        }
        if partial.len() > MAX_LINE {
            let line = std::mem::take(&mut *partial);
            self.emit(&line);
        }
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
        assert_eq!(log.partial.lock().unwrap().len(), 21);
        log.take(b"age\":\"hello\"}\n{\"level\"");
        assert_eq!(&*log.partial.lock().unwrap(), br#"{"level""#);
    }
}
