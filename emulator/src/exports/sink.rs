//! Where an export file's bytes collect before they are sent: as they are, or
//! gzipped with `compress: true`.

use std::io::Write as _;

use flate2::Compression;
use flate2::write::GzEncoder;

/// Bytes sent per `Upload::write`: a job empties its sink when this many are pending.
pub const CHUNK: usize = 256 << 10;

/// Output bytes waiting to be sent, plain or gzipped.
pub enum Sink {
    Plain(Vec<u8>),
    Gzip(GzEncoder<Vec<u8>>),
}

impl Sink {
    pub fn new(compress: bool) -> Sink {
        if compress {
            Sink::Gzip(GzEncoder::new(
                Vec::with_capacity(CHUNK * 2),
                Compression::fast(),
            ))
        } else {
            Sink::Plain(Vec::with_capacity(CHUNK * 2))
        }
    }

    pub fn write(&mut self, bytes: &[u8]) {
        match self {
            Sink::Plain(v) => v.extend_from_slice(bytes),
            Sink::Gzip(g) => g.write_all(bytes).expect("gzip into memory cannot fail"),
        }
    }

    /// Output bytes ready to send.
    pub fn pending(&self) -> usize {
        match self {
            Sink::Plain(v) => v.len(),
            Sink::Gzip(g) => g.get_ref().len(),
        }
    }

    pub fn take(&mut self) -> Vec<u8> {
        match self {
            Sink::Plain(v) => std::mem::take(v),
            Sink::Gzip(g) => std::mem::take(g.get_mut()),
        }
    }

    /// The last bytes (the gzip trailer included).
    pub fn finish(self) -> Vec<u8> {
        match self {
            Sink::Plain(v) => v,
            Sink::Gzip(g) => g.finish().expect("gzip into memory cannot fail"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_sink_round_trips() {
        use std::io::Read as _;
        let mut sink = Sink::new(true);
        let text = "{\"a\":1}\n".repeat(100_000);
        let mut sent = Vec::new();
        for chunk in text.as_bytes().chunks(4096) {
            sink.write(chunk);
            if sink.pending() >= 1024 {
                sent.extend(sink.take());
            }
        }
        sent.extend(sink.finish());
        let mut back = String::new();
        flate2::read::GzDecoder::new(&sent[..])
            .read_to_string(&mut back)
            .unwrap();
        assert_eq!(back, text);
    }
}
