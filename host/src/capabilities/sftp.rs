//! `cordial:jobs/sftp`: the job's SFTP connection (see `cordial-sftp`), opened on first use
//! from the job's authorization and confined to its folder.

use super::HostIo;
use super::{HasTable, WithTable};
use crate::config::{SftpConfig, SftpCredential};
use crate::runtime::bindings::resources::{Download, Upload};
use crate::runtime::bindings::sftp::{
    self, Entry, Host, HostDownload, HostUpload, Remote, SftpError,
};
use cordial_sftp::{Credential, HostKeyPolicy, SftpClient, SftpFailure, Target};
use wasmtime::component::{Linker, Resource};

/// One call's SFTP: the authorization's server, and the connection once opened.
pub struct SftpCtx {
    config: Option<SftpConfig>,
    client: Option<SftpClient>,
    pub io: HostIo,
}

impl SftpCtx {
    pub fn new(config: Option<SftpConfig>) -> SftpCtx {
        SftpCtx {
            config,
            client: None,
            io: HostIo::default(),
        }
    }

    /// The call's SFTP client, created on first use.
    fn client(&mut self) -> Result<&mut SftpClient, SftpError> {
        if self.client.is_none() {
            let config = self.config.as_ref().ok_or_else(not_configured)?;
            let target = target_for(config).map_err(SftpError::NotConfigured)?;
            self.client = Some(SftpClient::new(target));
        }
        Ok(self.client.as_mut().expect("just created"))
    }
}

/// Per-call store data that carries an [`SftpCtx`].
pub trait SftpHost: Send {
    fn sftp(&mut self) -> WithTable<'_, SftpCtx>;
}

pub fn add_to_linker<T: SftpHost + 'static>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    sftp::add_to_linker::<T, HasTable<SftpCtx>>(linker, |t| t.sftp())
}

fn not_configured() -> SftpError {
    SftpError::NotConfigured("this job's authorization has no [auth.<name>.sftp] section".into())
}

fn to_wit(failure: SftpFailure) -> SftpError {
    match failure {
        SftpFailure::NotFound(m) => SftpError::NotFound(m),
        SftpFailure::PermissionDenied(m) => SftpError::PermissionDenied(m),
        SftpFailure::OutsideRoot(m) => SftpError::OutsideRoot(m),
        SftpFailure::Connection(m) => SftpError::Connection(m),
        SftpFailure::Other(m) => SftpError::Other(m),
    }
}

/// The client's target for an authorization's SFTP settings.
pub fn target_for(config: &SftpConfig) -> Result<Target, String> {
    let credential = match &config.credential {
        SftpCredential::Password(source) => {
            Credential::Password(source.read()?.expose().to_owned())
        }
        SftpCredential::PrivateKey(path) => Credential::PrivateKey(path.clone()),
    };
    Ok(Target {
        host: config.host.clone(),
        port: config.port,
        username: config.username.clone(),
        credential,
        folder: config.folder.clone(),
        host_key: match &config.host_key {
            Some(fp) => HostKeyPolicy::Pinned(fp.clone()),
            None => HostKeyPolicy::Unpinned,
        },
    })
}

impl Host for WithTable<'_, SftpCtx> {
    async fn describe(&mut self) -> wasmtime::Result<Result<Remote, SftpError>> {
        let Some(config) = self.ctx.config.clone() else {
            return Ok(Err(not_configured()));
        };
        // Cordial needs the folder as an absolute path: ask the server what it resolves to.
        let folder = match self.ctx.client() {
            Ok(client) => client.resolved_root().await.map_err(to_wit),
            Err(e) => Err(e),
        };
        Ok(folder.map(|folder| Remote {
            server: config.host,
            port: config.port,
            username: config.username,
            folder,
        }))
    }

    /// The bundled host names its SFTP server (`describe`); it serves no files itself.
    async fn files_url(&mut self) -> wasmtime::Result<Result<Option<String>, SftpError>> {
        Ok(Ok(None))
    }

    async fn create(
        &mut self,
        path: String,
    ) -> wasmtime::Result<Result<Resource<Upload>, SftpError>> {
        let upload = match self.ctx.client() {
            Ok(client) => client.create(&path).await.map_err(to_wit),
            Err(e) => Err(e),
        };
        Ok(match upload {
            Ok(upload) => Ok(self.table.push(Upload(Some(upload)))?),
            Err(e) => Err(e),
        })
    }

    async fn open(
        &mut self,
        path: String,
    ) -> wasmtime::Result<Result<Resource<Download>, SftpError>> {
        let download = match self.ctx.client() {
            Ok(client) => client.open(&path).await.map_err(to_wit),
            Err(e) => Err(e),
        };
        Ok(match download {
            Ok(download) => Ok(self.table.push(Download(download))?),
            Err(e) => Err(e),
        })
    }

    async fn list_dir(&mut self, dir: String) -> wasmtime::Result<Result<Vec<Entry>, SftpError>> {
        let listing = match self.ctx.client() {
            Ok(client) => client.list_dir(&dir).await.map_err(to_wit),
            Err(e) => Err(e),
        };
        Ok(listing.map(|entries| {
            entries
                .into_iter()
                .map(|e| Entry {
                    name: e.name,
                    size: e.size,
                    is_dir: e.is_dir,
                    modified: e.modified,
                })
                .collect()
        }))
    }

    async fn remove(&mut self, path: String) -> wasmtime::Result<Result<(), SftpError>> {
        Ok(match self.ctx.client() {
            Ok(client) => client.remove(&path).await.map_err(to_wit),
            Err(e) => Err(e),
        })
    }
}

impl HostUpload for WithTable<'_, SftpCtx> {
    async fn write(
        &mut self,
        upload: Resource<Upload>,
        chunk: Vec<u8>,
    ) -> wasmtime::Result<Result<(), SftpError>> {
        let upload = self.table.get_mut(&upload)?;
        let written = match upload.0.as_mut() {
            Some(file) => self.ctx.io.time(file.write(&chunk)).await.map_err(to_wit),
            None => Err(SftpError::Other("the upload is already finished".into())),
        };
        Ok(written)
    }

    async fn finish(
        &mut self,
        upload: Resource<Upload>,
    ) -> wasmtime::Result<Result<(), SftpError>> {
        let Some(file) = self.table.get_mut(&upload)?.0.take() else {
            return Ok(Err(SftpError::Other(
                "the upload is already finished".into(),
            )));
        };
        let started = std::time::Instant::now();
        let finished = match self.ctx.client() {
            Ok(client) => client.finish(file).await.map(drop).map_err(to_wit),
            Err(e) => Err(e),
        };
        self.ctx.io.0 += started.elapsed();
        Ok(finished)
    }

    async fn drop(&mut self, upload: Resource<Upload>) -> wasmtime::Result<()> {
        let upload = self.table.delete(upload)?;
        if let (Some(file), Some(client)) = (upload.0, self.ctx.client.as_mut()) {
            // Never finished: remove the temporary file so no partial file lingers.
            client.abandon(file).await;
        }
        Ok(())
    }
}

impl HostDownload for WithTable<'_, SftpCtx> {
    async fn read(
        &mut self,
        download: Resource<Download>,
        max_bytes: u32,
    ) -> wasmtime::Result<Result<Vec<u8>, SftpError>> {
        let download = self.table.get_mut(&download)?;
        Ok(self
            .ctx
            .io
            .time(download.0.read(max_bytes as usize))
            .await
            .map_err(to_wit))
    }

    async fn drop(&mut self, download: Resource<Download>) -> wasmtime::Result<()> {
        self.table.delete(download)?;
        Ok(())
    }
}
