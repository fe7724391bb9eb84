//! SFTP version 3 packets (draft-ietf-secsh-filexfer-02): the requests this client sends and
//! the replies it understands, as bytes.
//!
//! Every packet is `u32 length` (of what follows), `u8 type`, then — for everything but
//! INIT/VERSION — a `u32 request id` that the reply echoes. Integers are big-endian; strings
//! are `u32 length` + bytes. Nothing here does IO, so it is tested with hand-made bytes.

/// Packet types (section 3 of the draft).
const FXP_INIT: u8 = 1;
const FXP_VERSION: u8 = 2;
const FXP_OPEN: u8 = 3;
const FXP_CLOSE: u8 = 4;
const FXP_READ: u8 = 5;
const FXP_WRITE: u8 = 6;
const FXP_LSTAT: u8 = 7;
const FXP_OPENDIR: u8 = 11;
const FXP_READDIR: u8 = 12;
const FXP_REMOVE: u8 = 13;
const FXP_STAT: u8 = 17;
const FXP_STATUS: u8 = 101;
const FXP_HANDLE: u8 = 102;
const FXP_DATA: u8 = 103;
const FXP_NAME: u8 = 104;
const FXP_ATTRS: u8 = 105;

/// The protocol version this client speaks.
pub(crate) const VERSION: u32 = 3;

/// Status codes (section 7).
pub(crate) const STATUS_OK: u32 = 0;
pub(crate) const STATUS_EOF: u32 = 1;
pub(crate) const STATUS_NO_SUCH_FILE: u32 = 2;
pub(crate) const STATUS_PERMISSION_DENIED: u32 = 3;

/// `pflags` of OPEN (section 6.3).
pub(crate) const OPEN_READ: u32 = 0x01;
pub(crate) const OPEN_WRITE: u32 = 0x02;
pub(crate) const OPEN_CREATE: u32 = 0x08;
pub(crate) const OPEN_TRUNCATE: u32 = 0x10;

/// Attribute flags (section 5): which optional fields follow.
const ATTR_SIZE: u32 = 0x01;
const ATTR_UIDGID: u32 = 0x02;
const ATTR_PERMISSIONS: u32 = 0x04;
const ATTR_ACMODTIME: u32 = 0x08;
const ATTR_EXTENDED: u32 = 0x8000_0000;

/// The file-type bits of `permissions` (POSIX `st_mode`), and the directory type.
const MODE_TYPE_MASK: u32 = 0o170_000;
const MODE_DIRECTORY: u32 = 0o040_000;

/// The largest reply accepted. A READ is never asked for more than [`crate::CHUNK`] bytes and
/// OpenSSH answers READDIR in batches of about 100 names, so anything near this size is a
/// broken or hostile server; refusing it bounds memory.
const MAX_PACKET: usize = 1 << 20;

/// A request, borrowing what it sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Request<'a> {
    /// Carries the client's version instead of a request id.
    Init,
    Open {
        path: &'a str,
        flags: u32,
    },
    Close {
        handle: &'a [u8],
    },
    Read {
        handle: &'a [u8],
        offset: u64,
        len: u32,
    },
    Write {
        handle: &'a [u8],
        offset: u64,
        data: &'a [u8],
    },
    OpenDir {
        path: &'a str,
    },
    ReadDir {
        handle: &'a [u8],
    },
    Remove {
        path: &'a str,
    },
    Stat {
        path: &'a str,
    },
    LStat {
        path: &'a str,
    },
}

impl Request<'_> {
    /// The whole packet, length prefix included. `id` is ignored for INIT.
    pub(crate) fn encode(&self, id: u32) -> Vec<u8> {
        let mut p = Vec::with_capacity(64);
        p.extend_from_slice(&[0; 4]); // the length, filled in below
        let (kind, id) = match self {
            Request::Init => (FXP_INIT, VERSION),
            Request::Open { .. } => (FXP_OPEN, id),
            Request::Close { .. } => (FXP_CLOSE, id),
            Request::Read { .. } => (FXP_READ, id),
            Request::Write { data, .. } => {
                p.reserve(data.len());
                (FXP_WRITE, id)
            }
            Request::OpenDir { .. } => (FXP_OPENDIR, id),
            Request::ReadDir { .. } => (FXP_READDIR, id),
            Request::Remove { .. } => (FXP_REMOVE, id),
            Request::Stat { .. } => (FXP_STAT, id),
            Request::LStat { .. } => (FXP_LSTAT, id),
        };
        p.push(kind);
        p.extend_from_slice(&id.to_be_bytes());
        match self {
            Request::Init => {}
            Request::Open { path, flags } => {
                put_bytes(&mut p, path.as_bytes());
                p.extend_from_slice(&flags.to_be_bytes());
                // No attributes: the server applies its defaults (and umask) to new files.
                p.extend_from_slice(&0u32.to_be_bytes());
            }
            Request::Close { handle } | Request::ReadDir { handle } => put_bytes(&mut p, handle),
            Request::Read {
                handle,
                offset,
                len,
            } => {
                put_bytes(&mut p, handle);
                p.extend_from_slice(&offset.to_be_bytes());
                p.extend_from_slice(&len.to_be_bytes());
            }
            Request::Write {
                handle,
                offset,
                data,
            } => {
                put_bytes(&mut p, handle);
                p.extend_from_slice(&offset.to_be_bytes());
                put_bytes(&mut p, data);
            }
            Request::OpenDir { path }
            | Request::Remove { path }
            | Request::Stat { path }
            | Request::LStat { path } => put_bytes(&mut p, path.as_bytes()),
        }
        let len = u32::try_from(p.len() - 4).expect("requests are far below 4 GiB");
        p[..4].copy_from_slice(&len.to_be_bytes());
        p
    }
}

fn put_bytes(p: &mut Vec<u8>, b: &[u8]) {
    let len = u32::try_from(b.len()).expect("SFTP strings are far below 4 GiB");
    p.extend_from_slice(&len.to_be_bytes());
    p.extend_from_slice(b);
}

/// A reply from the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Reply {
    /// The server's protocol version (the answer to INIT; extensions are ignored).
    Version(u32),
    Status {
        code: u32,
        message: String,
    },
    Handle(Vec<u8>),
    Data(Vec<u8>),
    Name(Vec<Name>),
    Attrs(Attrs),
}

impl Reply {
    /// The packet type's name in the draft, for error messages.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Reply::Version(_) => "VERSION",
            Reply::Status { .. } => "STATUS",
            Reply::Handle(_) => "HANDLE",
            Reply::Data(_) => "DATA",
            Reply::Name(_) => "NAME",
            Reply::Attrs(_) => "ATTRS",
        }
    }
}

/// One entry of a NAME reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Name {
    pub filename: String,
    pub attrs: Attrs,
}

/// The attributes this client uses; the others (owner, access time, extensions) are skipped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Attrs {
    pub size: Option<u64>,
    pub permissions: Option<u32>,
    pub mtime: Option<u32>,
}

impl Attrs {
    /// Whether the permissions say "directory" (servers that send none are taken as files).
    pub(crate) fn is_dir(&self) -> bool {
        self.permissions
            .is_some_and(|p| p & MODE_TYPE_MASK == MODE_DIRECTORY)
    }
}

/// What is wrong with a reply's bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Malformed(pub &'static str);

/// The length of the first whole packet at the start of `buf` (prefix included), or `None`
/// while more bytes are needed.
pub(crate) fn frame_len(buf: &[u8]) -> Result<Option<usize>, Malformed> {
    let Some(prefix) = buf.first_chunk::<4>() else {
        return Ok(None);
    };
    let len = u32::from_be_bytes(*prefix) as usize;
    if len == 0 {
        return Err(Malformed("an empty packet"));
    }
    if len > MAX_PACKET {
        return Err(Malformed("a packet larger than 1 MiB"));
    }
    Ok((buf.len() >= 4 + len).then_some(4 + len))
}

/// Decodes one whole packet (as [`frame_len`] delimited it): its request id (`None` for
/// VERSION, which has none) and its reply.
pub(crate) fn decode(packet: &[u8]) -> Result<(Option<u32>, Reply), Malformed> {
    let mut r = Reader(packet.get(4..).ok_or(Malformed("a truncated packet"))?);
    let kind = r.u8()?;
    if kind == FXP_VERSION {
        // Extension pairs may follow; this client uses none of them.
        return Ok((None, Reply::Version(r.u32()?)));
    }
    let id = r.u32()?;
    let reply = match kind {
        FXP_STATUS => {
            let code = r.u32()?;
            // Version 3 servers send the message and language tag, but the draft's earliest
            // servers sent only the code: an absent message is not an error.
            let message = if r.0.is_empty() {
                String::new()
            } else {
                r.text()?
            };
            Reply::Status { code, message }
        }
        FXP_HANDLE => Reply::Handle(r.bytes()?.to_vec()),
        FXP_DATA => Reply::Data(r.bytes()?.to_vec()),
        FXP_NAME => {
            let count = r.u32()?;
            // Each name takes at least 12 bytes, so a count beyond that is a lie: do not
            // let it size an allocation.
            let mut names = Vec::with_capacity((count as usize).min(r.0.len() / 12));
            for _ in 0..count {
                let filename = r.text()?;
                let _longname = r.bytes()?;
                names.push(Name {
                    filename,
                    attrs: r.attrs()?,
                });
            }
            Reply::Name(names)
        }
        FXP_ATTRS => Reply::Attrs(r.attrs()?),
        _ => return Err(Malformed("an unknown packet type")),
    };
    Ok((Some(id), reply))
}

/// A cursor over a reply's bytes.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], Malformed> {
        if self.0.len() < n {
            return Err(Malformed("a truncated packet"));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn u8(&mut self) -> Result<u8, Malformed> {
        Ok(self.take(1)?[0])
    }

    fn u32(&mut self) -> Result<u32, Malformed> {
        Ok(u32::from_be_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }

    fn u64(&mut self) -> Result<u64, Malformed> {
        Ok(u64::from_be_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }

    fn bytes(&mut self) -> Result<&'a [u8], Malformed> {
        let len = self.u32()? as usize;
        self.take(len)
    }

    /// SFTP v3 names are bytes; servers in practice send UTF-8, anything else is shown lossily.
    fn text(&mut self) -> Result<String, Malformed> {
        Ok(String::from_utf8_lossy(self.bytes()?).into_owned())
    }

    fn attrs(&mut self) -> Result<Attrs, Malformed> {
        let flags = self.u32()?;
        let mut a = Attrs::default();
        if flags & ATTR_SIZE != 0 {
            a.size = Some(self.u64()?);
        }
        if flags & ATTR_UIDGID != 0 {
            self.take(8)?;
        }
        if flags & ATTR_PERMISSIONS != 0 {
            a.permissions = Some(self.u32()?);
        }
        if flags & ATTR_ACMODTIME != 0 {
            let _atime = self.u32()?;
            a.mtime = Some(self.u32()?);
        }
        if flags & ATTR_EXTENDED != 0 {
            for _ in 0..self.u32()? {
                self.bytes()?;
                self.bytes()?;
            }
        }
        Ok(a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_carries_version_3_where_other_packets_carry_the_id() {
        assert_eq!(Request::Init.encode(99), [0, 0, 0, 5, 1, 0, 0, 0, 3]);
    }

    #[test]
    fn open_sends_path_flags_and_empty_attributes() {
        let p = Request::Open {
            path: "a/b",
            flags: OPEN_WRITE | OPEN_CREATE | OPEN_TRUNCATE,
        }
        .encode(7);
        #[rustfmt::skip]
        let want = [
            0, 0, 0, 20,        // length
            3,                  // SSH_FXP_OPEN
            0, 0, 0, 7,         // id
            0, 0, 0, 3, b'a', b'/', b'b',
            0, 0, 0, 0x1a,      // WRITE | CREAT | TRUNC
            0, 0, 0, 0,         // attrs: no fields
        ];
        assert_eq!(p, want);
    }

    #[test]
    fn read_and_write_put_the_offset_as_64_bits() {
        let read = Request::Read {
            handle: b"h1",
            offset: 0x1_0000_0002,
            len: 32768,
        }
        .encode(1);
        #[rustfmt::skip]
        let want = [
            0, 0, 0, 23, 5, 0, 0, 0, 1,
            0, 0, 0, 2, b'h', b'1',
            0, 0, 0, 1, 0, 0, 0, 2,
            0, 0, 0x80, 0,
        ];
        assert_eq!(read, want);

        let write = Request::Write {
            handle: b"h",
            offset: 5,
            data: b"xyz",
        }
        .encode(0x0102_0304);
        #[rustfmt::skip]
        let want = [
            0, 0, 0, 25, 6, 1, 2, 3, 4,
            0, 0, 0, 1, b'h',
            0, 0, 0, 0, 0, 0, 0, 5,
            0, 0, 0, 3, b'x', b'y', b'z',
        ];
        assert_eq!(write, want);
    }

    #[test]
    fn path_and_handle_requests_use_their_own_types() {
        let cases: [(Request, u8); 6] = [
            (Request::OpenDir { path: "d" }, 11),
            (Request::Remove { path: "d" }, 13),
            (Request::Stat { path: "d" }, 17),
            (Request::LStat { path: "d" }, 7),
            (Request::Close { handle: b"d" }, 4),
            (Request::ReadDir { handle: b"d" }, 12),
        ];
        for (request, kind) in cases {
            assert_eq!(
                request.encode(2),
                [0, 0, 0, 10, kind, 0, 0, 0, 2, 0, 0, 0, 1, b'd'],
                "{request:?}"
            );
        }
    }

    #[test]
    fn frames_wait_for_the_whole_packet_and_refuse_absurd_lengths() {
        assert_eq!(frame_len(&[0, 0, 0]), Ok(None));
        assert_eq!(frame_len(&[0, 0, 0, 2, 1]), Ok(None));
        assert_eq!(frame_len(&[0, 0, 0, 2, 1, 2, 9, 9]), Ok(Some(6)));
        assert!(frame_len(&[0, 0, 0, 0]).is_err());
        assert!(frame_len(&[0, 0x20, 0, 0]).is_err());
    }

    #[test]
    fn version_has_no_id_and_its_extensions_are_skipped() {
        #[rustfmt::skip]
        let p = [
            0, 0, 0, 17, 2, 0, 0, 0, 3,
            0, 0, 0, 1, b'x', 0, 0, 0, 2, b'v', b'1',
        ];
        assert_eq!(decode(&p), Ok((None, Reply::Version(3))));
    }

    #[test]
    fn status_with_and_without_its_message() {
        #[rustfmt::skip]
        let p = [
            0, 0, 0, 26, 101, 0, 0, 0, 9,
            0, 0, 0, 2,
            0, 0, 0, 7, b'N', b'o', b' ', b'f', b'i', b'l', b'e',
            0, 0, 0, 2, b'e', b'n',
        ];
        let status = |message: &str| Reply::Status {
            code: STATUS_NO_SUCH_FILE,
            message: message.into(),
        };
        assert_eq!(decode(&p), Ok((Some(9), status("No file"))));
        let bare = [0, 0, 0, 9, 101, 0, 0, 0, 9, 0, 0, 0, 2];
        assert_eq!(decode(&bare), Ok((Some(9), status(""))));
    }

    #[test]
    fn handle_and_data_are_byte_strings() {
        let h = [0, 0, 0, 11, 102, 0, 0, 0, 4, 0, 0, 0, 2, 0xff, 0];
        assert_eq!(decode(&h), Ok((Some(4), Reply::Handle(vec![0xff, 0]))));
        let d = [0, 0, 0, 12, 103, 0, 0, 0, 5, 0, 0, 0, 3, b'a', b'b', b'c'];
        assert_eq!(decode(&d), Ok((Some(5), Reply::Data(b"abc".to_vec()))));
    }

    #[test]
    fn attrs_keep_size_permissions_and_mtime_and_skip_the_rest() {
        #[rustfmt::skip]
        let p = [
            0, 0, 0, 58, 105, 0, 0, 0, 3,
            0x80, 0, 0, 0x0f,               // EXTENDED | ACMODTIME | PERMISSIONS | UIDGID | SIZE
            0, 0, 0, 0, 0, 0x10, 0, 0,      // size 1 MiB
            0, 0, 3, 0xe8, 0, 0, 3, 0xe8,   // uid, gid 1000
            0, 0, 0x81, 0xa4,               // 0o100644: a regular file
            0x11, 0x22, 0x33, 0x44,         // atime
            0x65, 0x00, 0x00, 0x01,         // mtime
            0, 0, 0, 1,                     // one extension pair
            0, 0, 0, 1, b'k', 0, 0, 0, 1, b'v',
        ];
        let (id, reply) = decode(&p).unwrap();
        assert_eq!(id, Some(3));
        let Reply::Attrs(a) = reply else {
            panic!("{reply:?}")
        };
        assert_eq!(a.size, Some(1 << 20));
        assert_eq!(a.permissions, Some(0o100_644));
        assert_eq!(a.mtime, Some(0x6500_0001));
        assert!(!a.is_dir());
    }

    #[test]
    fn names_decode_each_entry_with_its_attributes() {
        #[rustfmt::skip]
        let p = [
            0, 0, 0, 60, 104, 0, 0, 0, 8,
            0, 0, 0, 2,                                 // two names
            0, 0, 0, 3, b'd', b'i', b'r',
            0, 0, 0, 3, b'l', b's', b'1',               // longname, ignored
            0, 0, 0, 4, 0, 0, 0x41, 0xed,               // PERMISSIONS 0o40755
            0, 0, 0, 5, b'f', b'.', b't', b'x', b't',
            0, 0, 0, 0,                                 // empty longname
            0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 42,        // SIZE 42
        ];
        let (id, reply) = decode(&p).unwrap();
        assert_eq!(id, Some(8));
        let Reply::Name(names) = reply else {
            panic!("{reply:?}")
        };
        assert_eq!(names.len(), 2);
        assert_eq!(names[0].filename, "dir");
        assert!(names[0].attrs.is_dir());
        assert_eq!(names[0].attrs.size, None);
        assert_eq!(names[1].filename, "f.txt");
        assert!(!names[1].attrs.is_dir());
        assert_eq!(names[1].attrs.size, Some(42));
        assert_eq!(names[1].attrs.mtime, None);
    }

    #[test]
    fn truncated_and_unknown_replies_are_malformed() {
        // A NAME claiming two entries but holding none.
        assert!(decode(&[0, 0, 0, 9, 104, 0, 0, 0, 1, 0, 0, 0, 2]).is_err());
        // A HANDLE whose string runs past the end.
        assert!(decode(&[0, 0, 0, 10, 102, 0, 0, 0, 1, 0, 0, 0, 9, 1]).is_err());
        assert!(decode(&[0, 0, 0, 5, 200, 0, 0, 0, 1]).is_err());
        assert!(decode(&[0, 0]).is_err());
    }
}
