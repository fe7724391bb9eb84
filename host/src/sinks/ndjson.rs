//! The NDJSON mirror: each stream appended to `<dir>/<stream>.ndjson`
//! after every run, for tools that read files. SQLite stays the record of truth; a mirror's
//! position is kept in the store after its lines are on disk (`fsync`), so a crash between
//! the two can repeat lines in the file but never lose any.

use crate::db::Db;
use std::io::Write;
use std::path::Path;

const PAGE: u32 = 10_000;

/// Appends every stream's records stored since the last mirror; returns how many.
pub fn mirror_ndjson(store: &Db, dir: &Path) -> anyhow::Result<u64> {
    std::fs::create_dir_all(dir)
        .map_err(|e| anyhow::anyhow!("stream_ndjson_dir {}: {e}", dir.display()))?;
    let mut written = 0;
    for stream in store.streams()? {
        let key = format!("ndjson:{stream}");
        let mut after: i64 = store
            .state_get("@host", &key)?
            .and_then(|b| String::from_utf8(b).ok()?.parse().ok())
            .unwrap_or(0);
        let path = dir.join(format!("{stream}.ndjson"));
        loop {
            let page = store.stream_after(&stream, after, PAGE)?;
            let Some(&(last, _)) = page.last() else { break };
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            let mut out = std::io::BufWriter::new(file);
            for (_, record) in &page {
                writeln!(out, "{record}")?;
            }
            out.into_inner().map_err(|e| e.into_error())?.sync_data()?;
            store.state_set("@host", &key, last.to_string().as_bytes())?;
            written += page.len() as u64;
            after = last;
        }
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_record_reaches_the_file_once_across_runs() {
        let dir = tempfile::tempdir().unwrap();
        let store = Db::open(&dir.path().join("s.sqlite")).unwrap();
        let rec = |k: &str| (Some(k.to_owned()), format!(r#"{{"id":"{k}"}}"#));
        store
            .append_stream("cordial_activity", &[rec("a"), rec("b")])
            .unwrap();
        let out = dir.path().join("streams");
        assert_eq!(mirror_ndjson(&store, &out).unwrap(), 2);
        store
            .append_stream("cordial_activity", &[rec("b"), rec("c")])
            .unwrap();
        assert_eq!(mirror_ndjson(&store, &out).unwrap(), 1);
        assert_eq!(mirror_ndjson(&store, &out).unwrap(), 0);
        let text = std::fs::read_to_string(out.join("cordial_activity.ndjson")).unwrap();
        assert_eq!(text, "{\"id\":\"a\"}\n{\"id\":\"b\"}\n{\"id\":\"c\"}\n");
    }
}
