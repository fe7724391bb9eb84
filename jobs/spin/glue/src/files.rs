//! The bulk export's folder on Spin, in Spin's key-value store, and the addresses Cordial
//! fetches its files from.
//!
//! Spin gives a component HTTP, not an SFTP client, so the files the job writes stay in
//! the app's store and the app serves them itself: `GET /files/<job>/<grant>/<path>`. A
//! grant is 128 random bits with an expiry, made when the job asks where Cordial can fetch
//! its files ([`Folder::grant`]): the address is a capability only Cordial is given.
//!
//! Keys, under `files/<job>/`: `f/<path>` (a finished file: its upload, parts, size and
//! time), `p/<upload>/<n>` (its parts, at most [`PART`] bytes each, so no store value is
//! large), `grant/<token>` (the time it expires).

use crate::keyvalue::store::Bucket;
use crate::kv;
use serde_json::{Value, json};

/// The largest stored part of a file.
pub const PART: usize = 256 * 1024;

/// Why a file operation failed.
#[derive(Debug)]
pub enum FolderError {
    NotFound(String),
    /// An absolute path or one with `..`.
    OutsideRoot(String),
    Store(String),
}

impl From<String> for FolderError {
    fn from(message: String) -> Self {
        FolderError::Store(message)
    }
}

/// A finished file.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    pub upload: String,
    pub parts: u32,
    pub size: u64,
    /// Seconds since the epoch.
    pub modified: u64,
}

/// One job's folder.
pub struct Folder {
    bucket: Bucket,
    prefix: String,
}

impl Folder {
    pub fn open(job: &str) -> Result<Folder, String> {
        Ok(Folder {
            bucket: kv::open()?,
            prefix: format!("files/{job}/"),
        })
    }

    /// Starts writing `path`: visible only once [`Writer::finish`] succeeds.
    pub fn create(self, path: &str) -> Result<Writer, FolderError> {
        Ok(Writer {
            path: checked(path)?.to_owned(),
            folder: self,
            upload: kv::random_token(),
            buffer: Vec::new(),
            parts: 0,
            size: 0,
            finished: false,
        })
    }

    /// A finished file's record.
    pub fn stat(&self, path: &str) -> Result<Stored, FolderError> {
        let path = checked(path)?;
        let bytes = self
            .bucket
            .get(&self.key(&format!("f/{path}")))
            .map_err(kv::error("read a file"))?
            .ok_or_else(|| FolderError::NotFound(path.to_owned()))?;
        let v: Value = serde_json::from_slice(&bytes)
            .map_err(|e| FolderError::Store(format!("the record of {path} is not JSON: {e}")))?;
        Ok(Stored {
            upload: v["upload"].as_str().unwrap_or_default().to_owned(),
            parts: v["parts"].as_u64().unwrap_or(0) as u32,
            size: v["size"].as_u64().unwrap_or(0),
            modified: v["modified"].as_u64().unwrap_or(0),
        })
    }

    /// Opens a finished file for reading.
    pub fn read(self, path: &str) -> Result<Reader, FolderError> {
        let file = self.stat(path)?;
        Ok(Reader {
            folder: self,
            file,
            next: 0,
            buffer: Vec::new(),
        })
    }

    /// Part `n` of a stored file.
    pub fn part(&self, file: &Stored, n: u32) -> Result<Vec<u8>, FolderError> {
        self.bucket
            .get(&self.key(&format!("p/{}/{n:06}", file.upload)))
            .map_err(kv::error("read a part"))?
            .ok_or_else(|| FolderError::Store(format!("part {n} of a file is missing")))
    }

    /// The finished files and folders directly in `dir` (`""` for the top).
    pub fn list(&self, dir: &str) -> Result<Vec<(String, Option<Stored>)>, FolderError> {
        let dir = checked(dir)?.trim_end_matches('/');
        let under = if dir.is_empty() {
            self.key("f/")
        } else {
            self.key(&format!("f/{dir}/"))
        };
        let mut entries: Vec<(String, Option<Stored>)> = Vec::new();
        for key in kv::keys_under(&self.bucket, &under)? {
            let rest = &key[under.len()..];
            match rest.split_once('/') {
                Some((sub, _)) => {
                    if entries.last().map(|(n, _)| n.as_str()) != Some(sub) {
                        entries.push((sub.to_owned(), None));
                    }
                }
                None => {
                    let path = key[self.key("f/").len()..].to_owned();
                    entries.push((rest.to_owned(), Some(self.stat(&path)?)));
                }
            }
        }
        Ok(entries)
    }

    /// Removes a finished file and its parts.
    pub fn remove(&self, path: &str) -> Result<(), FolderError> {
        let file = self.stat(path)?;
        self.bucket
            .delete(&self.key(&format!("f/{}", checked(path)?)))
            .map_err(kv::error("remove a file"))?;
        self.drop_parts(&file.upload, file.parts);
        Ok(())
    }

    /// A new address for Cordial, valid for `ttl_ms`; expired grants are cleared.
    pub fn grant(&self, now_ms: u64, ttl_ms: u64) -> Result<String, String> {
        for key in kv::keys_under(&self.bucket, &self.key("grant/"))? {
            let value = self.bucket.get(&key).map_err(kv::error("read a grant"))?;
            if kv::until(value) <= now_ms {
                self.bucket
                    .delete(&key)
                    .map_err(kv::error("clear a grant"))?;
            }
        }
        let token = kv::random_token();
        self.bucket
            .set(
                &self.key(&format!("grant/{token}")),
                (now_ms + ttl_ms).to_string().as_bytes(),
            )
            .map_err(kv::error("write a grant"))?;
        Ok(token)
    }

    /// Whether `token` is a grant that has not expired.
    pub fn granted(&self, token: &str, now_ms: u64) -> Result<bool, String> {
        if token.is_empty() || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(false);
        }
        let value = self
            .bucket
            .get(&self.key(&format!("grant/{token}")))
            .map_err(kv::error("read a grant"))?;
        Ok(kv::until(value) > now_ms)
    }

    fn drop_parts(&self, upload: &str, parts: u32) {
        for n in 0..parts {
            let _ = self.bucket.delete(&self.key(&format!("p/{upload}/{n:06}")));
        }
    }

    fn key(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }
}

/// A path inside the folder, or why not.
fn checked(path: &str) -> Result<&str, FolderError> {
    let trimmed = path.trim_start_matches("./");
    if trimmed.starts_with('/') || trimmed.split('/').any(|p| p == "..") {
        return Err(FolderError::OutsideRoot(path.to_owned()));
    }
    Ok(trimmed)
}

/// A file being written, a part at a time.
pub struct Writer {
    folder: Folder,
    path: String,
    upload: String,
    buffer: Vec<u8>,
    parts: u32,
    size: u64,
    finished: bool,
}

impl Writer {
    pub fn write(&mut self, chunk: &[u8]) -> Result<(), FolderError> {
        self.buffer.extend_from_slice(chunk);
        self.size += chunk.len() as u64;
        while self.buffer.len() >= PART {
            let rest = self.buffer.split_off(PART);
            let part = std::mem::replace(&mut self.buffer, rest);
            self.store_part(&part)?;
        }
        Ok(())
    }

    /// Stores the rest and makes the file visible, replacing an older one of that name.
    pub fn finish(&mut self) -> Result<(), FolderError> {
        if !self.buffer.is_empty() || self.parts == 0 {
            let last = std::mem::take(&mut self.buffer);
            self.store_part(&last)?;
        }
        let older = self.folder.stat(&self.path).ok();
        let record = json!({
            "upload": self.upload,
            "parts": self.parts,
            "size": self.size,
            "modified": kv::now_ms() / 1000,
        });
        self.folder
            .bucket
            .set(
                &self.folder.key(&format!("f/{}", self.path)),
                record.to_string().as_bytes(),
            )
            .map_err(kv::error("finish a file"))?;
        self.finished = true;
        if let Some(older) = older {
            self.folder.drop_parts(&older.upload, older.parts);
        }
        Ok(())
    }

    fn store_part(&mut self, bytes: &[u8]) -> Result<(), FolderError> {
        let key = self
            .folder
            .key(&format!("p/{}/{:06}", self.upload, self.parts));
        self.folder
            .bucket
            .set(&key, bytes)
            .map_err(kv::error("write a part"))?;
        self.parts += 1;
        Ok(())
    }
}

impl Drop for Writer {
    /// An unfinished file leaves nothing behind.
    fn drop(&mut self) {
        if !self.finished {
            self.folder.drop_parts(&self.upload, self.parts);
        }
    }
}

/// A finished file being read, a part at a time.
pub struct Reader {
    folder: Folder,
    file: Stored,
    next: u32,
    buffer: Vec<u8>,
}

impl Reader {
    pub fn size(&self) -> u64 {
        self.file.size
    }

    /// Up to `max` more bytes; empty at the end.
    pub fn read(&mut self, max: usize) -> Result<Vec<u8>, FolderError> {
        while self.buffer.is_empty() && self.next < self.file.parts {
            self.buffer = self.folder.part(&self.file, self.next)?;
            self.next += 1;
        }
        let rest = self.buffer.split_off(max.min(self.buffer.len()));
        Ok(std::mem::replace(&mut self.buffer, rest))
    }
}
