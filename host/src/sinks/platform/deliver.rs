//! Forwarding one stream: pages of records after the cursor, each marked as out before it is
//! sent and acknowledged record by record range as the platform answers. A batch the
//! platform refuses is halved until the records it refuses are found and set aside; a bulk
//! request it refuses goes again as `collect/json` batches to find them.

use super::client::{Answer, Collect, Endpoint};
use super::config::{MAX_BULK_BYTES, MAX_JSON_BYTES, PlatformConfig};
use super::patience::{Patience, Stuck};
use crate::db::Db;
use std::collections::VecDeque;
use std::ops::Range;

/// Records a `collect/bulk` request carries at most.
const BULK_RECORDS: u32 = 200_000;

pub struct StreamForwarder<'a> {
    pub config: &'a PlatformConfig,
    pub collect: &'a Collect,
    pub store: &'a Db,
    pub stream: &'a str,
    pub timestamp_field: Option<&'a str>,
}

impl StreamForwarder<'_> {
    /// Forwards everything after the cursor; returns how many records went.
    pub async fn catch_up(&self, patience: &mut Patience) -> Result<u64, Stuck> {
        let (store, stream) = (self.store.clone(), self.stream.to_owned());
        let state = store.forwarding(&stream)?;
        if state.sending > state.cursor {
            let out = store.stream_between(&stream, state.cursor, state.sending)?;
            store.forward_resending(&stream, out)?;
            tracing::warn!(
                stream,
                records = out,
                "sending again the batch that was out when the host stopped; the platform may hold it already"
            );
        }
        let mut cursor = state.cursor;
        let mut sent = 0;
        loop {
            let backlog = store.stream_backlog(&stream, cursor)?;
            if backlog == 0 {
                return Ok(sent);
            }
            let endpoint = if backlog >= self.config.bulk_after {
                Endpoint::Bulk
            } else {
                Endpoint::Json
            };
            let (limit, max_bytes) = match endpoint {
                Endpoint::Json => (self.config.batch_size, MAX_JSON_BYTES),
                Endpoint::Bulk => (BULK_RECORDS, MAX_BULK_BYTES),
            };
            let mut page = store.stream_after(&stream, cursor, limit)?;
            page.truncate(fitting(&page, max_bytes));
            let last = page.last().expect("the backlog is not empty").0;
            store.forward_sending(&stream, last)?;
            self.deliver(endpoint, &page, patience).await?;
            sent += page.len() as u64;
            cursor = last;
        }
    }

    /// Sends one page until the platform has acknowledged or set aside every record of it.
    async fn deliver(
        &self,
        endpoint: Endpoint,
        page: &[(i64, String)],
        patience: &mut Patience,
    ) -> Result<(), Stuck> {
        let (store, stream) = (self.store, self.stream);
        let mut work = VecDeque::from([(endpoint, 0..page.len())]);
        while let Some((endpoint, range)) = work.pop_front() {
            let batch = &page[range.clone()];
            let texts: Vec<&str> = batch.iter().map(|(_, r)| r.as_str()).collect();
            let last = batch.last().expect("batches are never empty").0;
            match self
                .collect
                .send(endpoint, stream, self.timestamp_field, &texts)
                .await
            {
                Answer::Accepted { messages, rejected } => {
                    if rejected > 0 {
                        tracing::warn!(
                            stream,
                            rejected,
                            "the platform dropped records of a batch it took"
                        );
                    }
                    store.forward_acknowledged(stream, last, messages, rejected)?;
                    patience.succeeded();
                }
                Answer::Refused { status, message } if endpoint == Endpoint::Bulk => {
                    tracing::warn!(
                        stream,
                        status,
                        "the platform refused a bulk request ({message}); sending it as JSON batches to find the records at fault"
                    );
                    let size = self.config.batch_size as usize;
                    let chunks: Vec<Range<usize>> = range
                        .clone()
                        .step_by(size)
                        .map(|start| start..(start + size).min(range.end))
                        .collect();
                    for chunk in chunks.into_iter().rev() {
                        work.push_front((Endpoint::Json, chunk));
                    }
                }
                Answer::Refused { message, .. } if batch.len() > 1 => {
                    tracing::info!(
                        stream,
                        records = batch.len(),
                        "the platform refused a batch ({message}); halving it"
                    );
                    let middle = range.start + batch.len() / 2;
                    work.push_front((endpoint, middle..range.end));
                    work.push_front((endpoint, range.start..middle));
                }
                Answer::Refused { status, message } => {
                    let reason = format!("the platform refused the record ({status}): {message}");
                    tracing::warn!(
                        stream,
                        record = last,
                        "{reason}; set aside in the quarantine"
                    );
                    store.forward_set_aside(stream, last, &batch[0].1, &reason)?;
                }
                Answer::Retry {
                    after,
                    why,
                    maybe_stored,
                } => {
                    store.forward_failed(stream, &why, false)?;
                    if let Err(stuck) = patience.wait(after, &why).await {
                        store.forward_failed(stream, &stuck.to_string(), !maybe_stored)?;
                        return Err(stuck);
                    }
                    if maybe_stored {
                        store.forward_resending(stream, batch.len() as u64)?;
                    }
                    work.push_front((endpoint, range));
                }
                Answer::Broken(why) => {
                    store.forward_failed(stream, &why, true)?;
                    return Err(Stuck::Broken(why));
                }
            }
        }
        Ok(())
    }
}

/// How many of the first records of `page` fit in `max_bytes` (at least one).
fn fitting(page: &[(i64, String)], max_bytes: usize) -> usize {
    let mut bytes = 0;
    page.iter()
        .take_while(|(_, r)| {
            bytes += r.len() + 1;
            bytes <= max_bytes
        })
        .count()
        .max(1)
        .min(page.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_is_cut_at_the_byte_limit_but_never_to_nothing() {
        let page: Vec<(i64, String)> = (0..5).map(|i| (i, "x".repeat(9))).collect();
        assert_eq!(fitting(&page, 30), 3);
        assert_eq!(fitting(&page, 5), 1);
        assert_eq!(fitting(&page, 1000), 5);
    }
}
