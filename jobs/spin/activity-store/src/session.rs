//! The one SSH session of a request. Spin makes a fresh instance per request, so a session
//! lives as long as one `/run` call: opened on the job's first file call, reused by the rest,
//! dropped (and reopened on the next call) after a connection failure.

use crate::exports::cordial::jobs::sftp::SftpError;
use crate::login;
use cordial_ssh_sftp::{Error, Sftp};
use std::cell::RefCell;
use std::net::TcpStream;

/// An open session and the folder the job works in.
struct Open {
    sftp: Sftp<TcpStream>,
    folder: String,
}

thread_local! {
    static SESSION: RefCell<Option<Open>> = const { RefCell::new(None) };
}

/// Runs `f` with the session (connecting first if there is none) and the folder.
pub fn with<T>(
    f: impl FnOnce(&mut Sftp<TcpStream>, &str) -> Result<T, SftpError>,
) -> Result<T, SftpError> {
    SESSION.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            let login = login::read()?;
            let sftp = Sftp::connect(&login.ssh).map_err(to_wit)?;
            *slot = Some(Open {
                sftp,
                folder: login.folder,
            });
        }
        let open = slot.as_mut().expect("opened above");
        let result = f(&mut open.sftp, &open.folder);
        if matches!(result, Err(SftpError::Connection(_))) {
            *slot = None;
        }
        result
    })
}

/// The client's error as the job's.
pub fn to_wit(e: Error) -> SftpError {
    let message = e.to_string();
    match e {
        Error::Connection(_) | Error::HostKey(_) => SftpError::Connection(message),
        Error::Login(_) => SftpError::PermissionDenied(message),
        Error::NotFound(_) => SftpError::NotFound(message),
        Error::PermissionDenied(_) => SftpError::PermissionDenied(message),
        Error::Other(_) => SftpError::Other(message),
    }
}
