//! `cordial:jobs/sftp`: the job's SFTP connection, scoped to its configured folder.
//!
//! This build describes the configured server to the job (what Cordial must be told) but
//! has no SFTP client yet: file operations answer with an error that says so, and a job
//! without SFTP settings is told to add them.

use crate::config::SftpConfig;
use crate::runtime::RunState;
use crate::runtime::bindings::sftp::{Entry, Host, HostDownload, HostUpload, Remote, SftpError};
use wasmtime::component::Resource;

/// A file being uploaded (host side of the `upload` resource).
pub struct Upload;

/// A file being downloaded (host side of the `download` resource).
pub struct Download;

fn unavailable(config: &Option<SftpConfig>) -> SftpError {
    match config {
        None => SftpError::NotConfigured(
            "this job's authorization has no [auth.<name>.sftp] section".into(),
        ),
        Some(c) => SftpError::Connection(format!(
            "SFTP to {}:{} is not available in this build of cordial-host",
            c.host, c.port
        )),
    }
}

impl Host for RunState {
    async fn describe(&mut self) -> wasmtime::Result<Result<Remote, SftpError>> {
        Ok(match &self.sftp {
            None => Err(unavailable(&None)),
            Some(c) => Ok(Remote {
                server: c.host.clone(),
                port: c.port,
                username: c.username.clone(),
                folder: if c.folder.is_empty() {
                    ".".into()
                } else {
                    c.folder.clone()
                },
            }),
        })
    }

    async fn create(
        &mut self,
        _path: String,
    ) -> wasmtime::Result<Result<Resource<Upload>, SftpError>> {
        Ok(Err(unavailable(&self.sftp)))
    }

    async fn open(
        &mut self,
        _path: String,
    ) -> wasmtime::Result<Result<Resource<Download>, SftpError>> {
        Ok(Err(unavailable(&self.sftp)))
    }

    async fn list_dir(&mut self, _dir: String) -> wasmtime::Result<Result<Vec<Entry>, SftpError>> {
        Ok(Err(unavailable(&self.sftp)))
    }

    async fn remove(&mut self, _path: String) -> wasmtime::Result<Result<(), SftpError>> {
        Ok(Err(unavailable(&self.sftp)))
    }
}

impl HostUpload for RunState {
    async fn write(
        &mut self,
        _upload: Resource<Upload>,
        _chunk: Vec<u8>,
    ) -> wasmtime::Result<Result<(), SftpError>> {
        Ok(Err(unavailable(&self.sftp)))
    }

    async fn finish(
        &mut self,
        _upload: Resource<Upload>,
    ) -> wasmtime::Result<Result<(), SftpError>> {
        Ok(Err(unavailable(&self.sftp)))
    }

    async fn drop(&mut self, upload: Resource<Upload>) -> wasmtime::Result<()> {
        self.table.delete(upload)?;
        Ok(())
    }
}

impl HostDownload for RunState {
    async fn read(
        &mut self,
        _download: Resource<Download>,
        _max_bytes: u32,
    ) -> wasmtime::Result<Result<Vec<u8>, SftpError>> {
        Ok(Err(unavailable(&self.sftp)))
    }

    async fn drop(&mut self, download: Resource<Download>) -> wasmtime::Result<()> {
        self.table.delete(download)?;
        Ok(())
    }
}
