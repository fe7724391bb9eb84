//! The Spin side of the bulk export's two project interfaces, composed in front of the
//! unchanged job component: `cordial:jobs/sftp` as a folder in Spin's key-value store that
//! the app serves to Cordial over HTTPS (`files-url`), and `cordial:jobs/members` as the
//! members the entry received. The layouts live in `cordial_spin_glue::{files, members}`,
//! which the entry shares.

use cordial_spin_glue::files::{Folder, FolderError, Reader, Writer};
use cordial_spin_glue::kv::now_ms;
use cordial_spin_glue::members::Members;
use cordial_spin_glue::settings::Variables;
use exports::cordial::jobs::members::{self as wit_members, Member};
use exports::cordial::jobs::sftp::{self, Entry, Remote, SftpError};
use std::cell::RefCell;

wit_bindgen::generate!({
    path: "../../../wit",
    inline: "
        package cordial:spin-adapters;
        world bulk-store {
            export cordial:jobs/sftp@0.2.0;
            export cordial:jobs/members@0.2.0;
        }
    ",
    world: "cordial:spin-adapters/bulk-store",
    generate_all,
});

struct Store;

/// The entry's variables this adapter reads: the job's name, the app's public address and
/// how long a file address lasts.
struct Place {
    job: String,
    public_url: Option<String>,
    ttl_ms: u64,
}

impl Place {
    fn read() -> Result<Place, String> {
        let vars = Variables::read()?;
        Ok(Place {
            job: vars.job()?.to_owned(),
            public_url: vars.ingress("public_url").map(str::to_owned),
            ttl_ms: vars.ingress_number("file_url_secs", 3600)? * 1000,
        })
    }

    fn folder(&self) -> Result<Folder, SftpError> {
        Folder::open(&self.job).map_err(SftpError::Connection)
    }
}

fn place() -> Result<Place, SftpError> {
    Place::read().map_err(SftpError::NotConfigured)
}

fn to_wit(e: FolderError) -> SftpError {
    match e {
        FolderError::NotFound(m) => SftpError::NotFound(m),
        FolderError::OutsideRoot(m) => SftpError::OutsideRoot(m),
        FolderError::Store(m) => SftpError::Connection(m),
    }
}

impl sftp::Guest for Store {
    type Upload = Upload;
    type Download = Download;

    fn describe() -> Result<Remote, SftpError> {
        Err(SftpError::NotConfigured(
            "on Spin the files stay in the app's store and Cordial fetches them over HTTPS \
             (files-url); there is no SFTP server to name"
                .into(),
        ))
    }

    fn files_url() -> Result<Option<String>, SftpError> {
        let place = place()?;
        let public = place.public_url.as_deref().ok_or_else(|| {
            SftpError::NotConfigured(
                "set the Spin variable `ingress_public_url` to the app's public https address \
                 (Cordial fetches the export files from it)"
                    .into(),
            )
        })?;
        let token = place
            .folder()?
            .grant(now_ms(), place.ttl_ms)
            .map_err(SftpError::Connection)?;
        Ok(Some(format!(
            "{}/files/{}/{token}",
            public.trim_end_matches('/'),
            place.job
        )))
    }

    fn create(path: String) -> Result<sftp::Upload, SftpError> {
        let writer = place()?.folder()?.create(&path).map_err(to_wit)?;
        Ok(sftp::Upload::new(Upload(RefCell::new(writer))))
    }

    fn open(path: String) -> Result<sftp::Download, SftpError> {
        let reader = place()?.folder()?.read(&path).map_err(to_wit)?;
        Ok(sftp::Download::new(Download(RefCell::new(reader))))
    }

    fn list_dir(dir: String) -> Result<Vec<Entry>, SftpError> {
        let entries = place()?.folder()?.list(&dir).map_err(to_wit)?;
        Ok(entries
            .into_iter()
            .map(|(name, file)| Entry {
                name,
                size: file.as_ref().map_or(0, |f| f.size),
                is_dir: file.is_none(),
                modified: file.map(|f| f.modified),
            })
            .collect())
    }

    fn remove(path: String) -> Result<(), SftpError> {
        place()?.folder()?.remove(&path).map_err(to_wit)
    }
}

struct Upload(RefCell<Writer>);

impl sftp::GuestUpload for Upload {
    fn write(&self, chunk: Vec<u8>) -> Result<(), SftpError> {
        self.0.borrow_mut().write(&chunk).map_err(to_wit)
    }

    fn finish(&self) -> Result<(), SftpError> {
        self.0.borrow_mut().finish().map_err(to_wit)
    }
}

struct Download(RefCell<Reader>);

impl sftp::GuestDownload for Download {
    fn read(&self, max_bytes: u32) -> Result<Vec<u8>, SftpError> {
        self.0.borrow_mut().read(max_bytes as usize).map_err(to_wit)
    }
}

fn members() -> Result<Members, String> {
    Members::open(&Place::read()?.job)
}

impl wit_members::Guest for Store {
    fn high_water() -> Result<u64, String> {
        members()?.high_water()
    }

    fn page(after: u64, up_to: u64, limit: u32) -> Result<Vec<Member>, String> {
        Ok(members()?
            .page(after, up_to, limit as usize)?
            .into_iter()
            .map(|m| Member {
                seq: m.seq,
                entered: m.entered,
                user: m.user,
            })
            .collect())
    }

    fn acknowledge(up_to: u64) -> Result<u64, String> {
        members()?.acknowledge(up_to)
    }
}

export!(Store);
