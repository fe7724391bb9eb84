//! The platform's streams in the store: records keyed for exactly-once (a key already in the
//! stream is skipped), and the quarantine of records a job could not use.

use super::Db;
use cordial_jobs::ports::flat::is_flat_record;
use rusqlite::{Connection, params};

pub fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    // Stores created before keyed records get the column; new ones are created with it.
    let has_key: bool = conn
        .prepare("SELECT 1 FROM pragma_table_info('stream_records') WHERE name = 'key'")?
        .exists([])?;
    if !has_key {
        conn.execute_batch("ALTER TABLE stream_records ADD COLUMN key TEXT")?;
    }
    conn.execute_batch(
        "CREATE UNIQUE INDEX IF NOT EXISTS stream_records_by_key ON stream_records (stream, key)
             WHERE key IS NOT NULL;
         CREATE TABLE IF NOT EXISTS quarantine (
             id      INTEGER PRIMARY KEY AUTOINCREMENT,
             job     TEXT NOT NULL,
             stream  TEXT NOT NULL,
             file    TEXT NOT NULL,
             line    INTEGER NOT NULL,
             reason  TEXT NOT NULL,
             text    TEXT NOT NULL,
             at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
         );",
    )
}

/// Rows per multi-row `INSERT` of [`Db::append_stream`].
const ROWS_PER_INSERT: usize = 100;

/// `INSERT OR IGNORE` of `rows` rows: `?1` the stream, `?2` the time, then key and record
/// of each row. A key the stream holds skips its row only.
fn insert_rows(rows: usize) -> String {
    let values: Vec<String> = (0..rows)
        .map(|i| format!("(?1, ?{}, ?{}, ?2)", 3 + 2 * i, 4 + 2 * i))
        .collect();
    format!(
        "INSERT OR IGNORE INTO stream_records (stream, key, record, stored_at) VALUES {}",
        values.join(", ")
    )
}

/// The parameters of [`insert_rows`] for `rows`.
fn insert_params<'a>(
    stream: &'a &'a str,
    stored_at: &'a &'a str,
    rows: &[(&'a Option<String>, &'a String)],
) -> Vec<&'a dyn rusqlite::ToSql> {
    let mut params: Vec<&dyn rusqlite::ToSql> = Vec::with_capacity(2 + 2 * rows.len());
    params.push(stream);
    params.push(stored_at);
    for (key, record) in rows {
        params.push(*key);
        params.push(*record);
    }
    params
}

/// What one emit did, and a record set aside: the job's own types (`cordial_jobs::ports`).
pub use cordial_jobs::ports::{EmitSummary, Quarantined};

impl Db {
    /// Appends keyed records to a stream in one transaction. A record whose key the stream
    /// holds is skipped; one that is not a flat JSON object is refused.
    pub fn append_stream(
        &self,
        stream: &str,
        records: &[(Option<String>, String)],
    ) -> anyhow::Result<EmitSummary> {
        let mut conn = self.conn.lock().expect("store mutex poisoned");
        let tx = conn.transaction()?;
        let mut counts = EmitSummary::default();
        {
            // One time for the batch, read once rather than by the column's default per row.
            let stored_at: String =
                tx.query_row("SELECT strftime('%Y-%m-%dT%H:%M:%SZ', 'now')", [], |r| {
                    r.get(0)
                })?;
            let stored_at = stored_at.as_str();
            let mut flat: Vec<(&Option<String>, &String)> = Vec::with_capacity(records.len());
            for (key, record) in records {
                if is_flat_record(record) {
                    flat.push((key, record));
                } else {
                    counts.rejected += 1;
                }
            }
            // Rows go in `ROWS_PER_INSERT` at a time: the table's AUTOINCREMENT bookkeeping
            // and the statement's set-up are paid per statement, not per row.
            let mut many = tx.prepare_cached(&insert_rows(ROWS_PER_INSERT))?;
            let mut one = tx.prepare_cached(&insert_rows(1))?;
            let mut chunks = flat.chunks_exact(ROWS_PER_INSERT);
            for chunk in &mut chunks {
                let inserted =
                    many.execute(insert_params(&stream, &stored_at, chunk).as_slice())?;
                counts.accepted += inserted as u32;
                counts.duplicates += (chunk.len() - inserted) as u32;
            }
            for row in chunks.remainder() {
                let inserted =
                    one.execute(insert_params(&stream, &stored_at, &[*row]).as_slice())?;
                counts.accepted += inserted as u32;
                counts.duplicates += (1 - inserted) as u32;
            }
        }
        tx.commit()?;
        Ok(counts)
    }

    /// How many records a stream holds.
    pub fn stream_count(&self, stream: &str) -> anyhow::Result<u64> {
        self.number(
            "SELECT COUNT(*) FROM stream_records WHERE stream = ?1",
            stream,
        )
    }

    /// The streams that hold records.
    pub fn streams(&self) -> anyhow::Result<Vec<String>> {
        self.with(|c| {
            let mut q = c.prepare("SELECT DISTINCT stream FROM stream_records ORDER BY stream")?;
            q.query_map([], |r| r.get(0))?.collect()
        })
    }

    /// Up to `limit` records of `stream` stored after row `after`, with their row ids.
    pub fn stream_after(
        &self,
        stream: &str,
        after: i64,
        limit: u32,
    ) -> anyhow::Result<Vec<(i64, String)>> {
        self.with(|c| {
            let mut q = c.prepare_cached(
                "SELECT id, record FROM stream_records WHERE stream = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
            )?;
            q.query_map(params![stream, after, limit], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect()
        })
    }

    pub fn quarantine(
        &self,
        job: &str,
        stream: &str,
        entries: &[Quarantined],
    ) -> anyhow::Result<()> {
        let mut conn = self.conn.lock().expect("store mutex poisoned");
        let tx = conn.transaction()?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO quarantine (job, stream, file, line, reason, text) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            for e in entries {
                insert.execute(params![
                    job,
                    stream,
                    e.file,
                    e.line as i64,
                    e.reason,
                    e.text
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// A job's quarantined records, oldest first.
    pub fn quarantined(&self, job: &str) -> anyhow::Result<Vec<Quarantined>> {
        self.with(|c| {
            let mut q = c.prepare(
                "SELECT file, line, reason, text FROM quarantine WHERE job = ?1 ORDER BY id",
            )?;
            q.query_map(params![job], |r| {
                Ok(Quarantined {
                    file: r.get(0)?,
                    line: r.get::<_, i64>(1)? as u64,
                    reason: r.get(2)?,
                    text: r.get(3)?,
                })
            })?
            .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyed_records_are_stored_once_and_non_flat_ones_refused() {
        let s = Db::in_memory().unwrap();
        let rec = |k: Option<&str>, body: &str| (k.map(str::to_owned), body.to_owned());
        let counts = s
            .append_stream(
                "cordial_activity",
                &[
                    rec(Some("a"), r#"{"cr_contact_id":"a","tags":["x"]}"#),
                    rec(Some("a"), r#"{"cr_contact_id":"a"}"#),
                    rec(None, r#"{"nested":{"no":1}}"#),
                    rec(None, "not json"),
                    rec(None, r#"{"k":1}"#),
                ],
            )
            .unwrap();
        assert_eq!(
            counts,
            EmitSummary {
                accepted: 2,
                duplicates: 1,
                rejected: 2
            }
        );
        let again = s
            .append_stream("cordial_activity", &[rec(Some("a"), r#"{"x":1}"#)])
            .unwrap();
        assert_eq!(again.duplicates, 1);
        assert_eq!(s.stream_count("cordial_activity").unwrap(), 2);
        // The same key in another stream is another record.
        assert_eq!(
            s.append_stream("other", &[rec(Some("a"), "{}")])
                .unwrap()
                .accepted,
            1
        );
    }

    /// Batches larger than one multi-row insert: every record lands once, in the order
    /// given, duplicates inside a statement and against earlier batches skipped, refused
    /// records leaving no gap in the counts.
    #[test]
    fn large_batches_keep_order_and_counts() {
        let s = Db::in_memory().unwrap();
        let rec = |i: usize| (Some(format!("k{i}")), format!(r#"{{"n":{i}}}"#));
        let first: Vec<_> = (0..250).map(rec).collect();
        let counts = s.append_stream("st", &first).unwrap();
        assert_eq!((counts.accepted, counts.duplicates), (250, 0));

        // 200..450, with 300 twice in one statement, an unkeyed one and a refused one.
        let mut second: Vec<_> = (200..450).map(rec).collect();
        second.insert(120, rec(300));
        second.insert(7, (None, r#"{"unkeyed":true}"#.to_owned()));
        second.insert(3, (Some("bad".into()), "[1]".to_owned()));
        let counts = s.append_stream("st", &second).unwrap();
        assert_eq!(
            counts,
            EmitSummary {
                accepted: 201,
                duplicates: 51,
                rejected: 1
            }
        );
        let stored = s.stream_tail("st", 1_000).unwrap();
        let mut expected: Vec<String> = (0..250).map(|i| rec(i).1).collect();
        expected.push(r#"{"unkeyed":true}"#.to_owned());
        expected.extend((250..450).map(|i| rec(i).1));
        assert_eq!(stored, expected);
    }

    #[test]
    fn quarantined_records_are_kept_per_job() {
        let s = Db::in_memory().unwrap();
        let q = Quarantined {
            file: "f.json".into(),
            line: 3,
            reason: "not JSON".into(),
            text: "{x".into(),
        };
        s.quarantine("job", "cordial_activity", std::slice::from_ref(&q))
            .unwrap();
        assert_eq!(s.quarantined("job").unwrap(), vec![q]);
        assert!(s.quarantined("other").unwrap().is_empty());
    }
}
