//! `cordial-ssh-sftp` (the blocking SSH + SFTP client the Spin components use over
//! `wasi:sockets`) run natively against a real OpenSSH sshd: both logins, the host-key pin,
//! each error a caller has to tell apart, and a 1 MiB file written and read back.

use cordial_sftp::sshd::{LocalSshd, password_account};
use cordial_ssh_sftp::{Credential, Entry, Error, HostKey, Login, Sftp};
use std::net::TcpStream;
use std::path::Path;
use std::time::UNIX_EPOCH;

/// A login as the user running the tests, with the key sshd's `authorized_keys` accepts.
fn key_login(sshd: &LocalSshd, host_key: HostKey) -> Login {
    Login {
        host: "127.0.0.1".into(),
        port: sshd.port(),
        username: sshd.user(),
        credential: Credential::Ed25519Key(std::fs::read_to_string(sshd.client_key()).unwrap()),
        host_key,
    }
}

fn password_login(sshd: &LocalSshd, password: String) -> Login {
    let (user, _) = password_account().expect("the password account exists (./dev setup)");
    Login {
        host: "127.0.0.1".into(),
        port: sshd.port(),
        username: user,
        credential: Credential::Password(password),
        host_key: HostKey::Pinned(sshd.host_fingerprint().into()),
    }
}

/// A public-key line from sshd's key folder (the fixture keeps `host_ed25519.pub` and
/// `client_ed25519.pub` next to the client key).
fn public_key_line(sshd: &LocalSshd, name: &str) -> String {
    let dir = sshd.client_key().parent().unwrap().to_owned();
    std::fs::read_to_string(dir.join(name))
        .unwrap()
        .trim()
        .to_owned()
}

/// Bytes that differ at every offset a chunking bug could shift.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 % 251) as u8).collect()
}

#[test]
fn key_login_writes_a_1_mib_file_reads_it_back_lists_stats_and_removes_it() {
    let sshd = LocalSshd::start().unwrap();
    let line = public_key_line(&sshd, "host_ed25519.pub");
    assert!(line.starts_with("ssh-ed25519 AAAA"), "{line}");
    let mut sftp = Sftp::connect(&key_login(&sshd, HostKey::Pinned(line))).unwrap();

    let dir = sshd.files_dir();
    std::fs::create_dir(dir.join("sub")).unwrap();
    let path = dir.join("big.bin");
    let path = path.to_str().unwrap();
    let data = pattern(1 << 20);

    let h = sftp.create(path).unwrap();
    // Two writes, the second at an offset that is not a chunk boundary.
    sftp.write(&h, 0, &data[..300_001]).unwrap();
    sftp.write(&h, 300_001, &data[300_001..]).unwrap();
    sftp.close(h).unwrap();
    assert_eq!(std::fs::read(path).unwrap(), data, "what sshd stored");

    let h = sftp.open(path).unwrap();
    let mut back = Vec::new();
    loop {
        let chunk = sftp.read(&h, back.len() as u64, 100_000).unwrap();
        if chunk.is_empty() {
            break;
        }
        assert!(chunk.len() <= 100_000);
        back.extend_from_slice(&chunk);
    }
    assert_eq!(back.len(), data.len());
    assert!(
        back == data,
        "the bytes read back differ from those written"
    );
    // Reads inside the file and past its end.
    assert_eq!(sftp.read(&h, 1000, 10).unwrap(), data[1000..1010]);
    assert_eq!(
        sftp.read(&h, (1 << 20) - 3, 10).unwrap(),
        data[(1 << 20) - 3..]
    );
    assert_eq!(sftp.read(&h, 5 << 20, 10).unwrap(), b"");
    sftp.close(h).unwrap();

    let mtime = std::fs::metadata(path)
        .unwrap()
        .modified()
        .unwrap()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let mut listed = sftp.list_dir(dir.to_str().unwrap()).unwrap();
    listed.sort_by(|a, b| a.name.cmp(&b.name));
    let file = Entry {
        name: "big.bin".into(),
        size: 1 << 20,
        is_dir: false,
        modified: Some(mtime),
    };
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert_eq!(listed[0], file);
    assert_eq!(listed[1].name, "sub");
    assert!(listed[1].is_dir, "{listed:?}");
    assert_eq!(sftp.stat(path).unwrap(), file);
    assert_eq!(sftp.lstat(path).unwrap(), file);
    assert!(sftp.stat(dir.join("sub").to_str().unwrap()).unwrap().is_dir);

    sftp.remove(path).unwrap();
    assert!(!Path::new(path).exists());
    assert_eq!(sftp.open(path), Err(Error::NotFound(path.into())));
    assert_eq!(sftp.stat(path), Err(Error::NotFound(path.into())));
    let gone = dir.join("no-such-folder");
    let gone = gone.to_str().unwrap();
    assert_eq!(sftp.list_dir(gone), Err(Error::NotFound(gone.into())));
    assert_eq!(sftp.remove(path), Err(Error::NotFound(path.into())));
    // The session is still usable after errors.
    assert_eq!(sftp.list_dir(dir.to_str().unwrap()).unwrap().len(), 1);
}

#[test]
fn password_login_works_in_the_home_folder_and_is_denied_elsewhere() {
    let sshd = LocalSshd::start().unwrap();
    let (user, password) = password_account().unwrap();
    let mut sftp = Sftp::connect(&password_login(&sshd, password)).unwrap();

    // Relative paths start at the account's home folder.
    let name = format!("ssh-sftp-{}.txt", std::process::id());
    let h = sftp.create(&name).unwrap();
    sftp.write(&h, 0, b"hello over sunset").unwrap();
    sftp.close(h).unwrap();
    let on_disk = Path::new("/home").join(&user).join(&name);
    assert_eq!(std::fs::read(&on_disk).unwrap(), b"hello over sunset");
    let listed = sftp.list_dir(".").unwrap();
    assert!(
        listed
            .iter()
            .any(|e| e.name == name && e.size == 17 && !e.is_dir),
        "{listed:?}"
    );
    assert!(listed.iter().all(|e| e.name != "." && e.name != ".."));
    assert_eq!(sftp.stat(&name).unwrap().size, 17);
    sftp.remove(&name).unwrap();
    assert!(!on_disk.exists());

    let denied = "/root/ssh-sftp-denied.txt";
    assert_eq!(
        sftp.create(denied),
        Err(Error::PermissionDenied(denied.into()))
    );
    let err = sftp.list_dir("/root").unwrap_err();
    assert_eq!(err, Error::PermissionDenied("/root".into()));
    assert!(err.to_string().contains("denied access to /root"), "{err}");
}

#[test]
fn a_wrong_password_is_a_login_error() {
    let sshd = LocalSshd::start().unwrap();
    let (user, password) = password_account().unwrap();
    let err = Sftp::connect(&password_login(&sshd, format!("{password}-wrong")))
        .err()
        .expect("a wrong password is refused");
    let Error::Login(detail) = &err else {
        panic!("{err:?}")
    };
    assert!(detail.contains(&user), "{err}");
    assert!(
        err.to_string()
            .contains("Check the username and the password"),
        "{err}"
    );
}

#[test]
fn a_key_the_server_does_not_know_is_a_login_error() {
    let sshd = LocalSshd::start().unwrap();
    // A real Ed25519 private key that `authorized_keys` does not list: the host's own.
    let dir = sshd.client_key().parent().unwrap().to_owned();
    let mut login = key_login(&sshd, HostKey::AcceptAny);
    login.credential =
        Credential::Ed25519Key(std::fs::read_to_string(dir.join("host_ed25519")).unwrap());
    let err = Sftp::connect(&login).err().expect("the key is refused");
    assert!(matches!(err, Error::Login(_)), "{err:?}");
}

#[test]
fn a_private_key_that_is_not_one_is_a_login_error_before_any_traffic() {
    let login = Login {
        host: "unused".into(),
        port: 22,
        username: "u".into(),
        credential: Credential::Ed25519Key("not a key".into()),
        host_key: HostKey::AcceptAny,
    };
    let err = Sftp::over(std::io::Cursor::new(Vec::new()), &login)
        .err()
        .unwrap();
    assert!(
        matches!(&err, Error::Login(m) if m.contains("private key")),
        "{err:?}"
    );
}

#[test]
fn a_host_key_other_than_the_pinned_one_is_refused() {
    let sshd = LocalSshd::start().unwrap();
    // A real Ed25519 key line, but the client's, not the host's.
    let other = public_key_line(&sshd, "client_ed25519.pub");
    let err = Sftp::connect(&key_login(&sshd, HostKey::Pinned(other)))
        .err()
        .unwrap();
    let Error::HostKey(detail) = &err else {
        panic!("{err:?}")
    };
    assert!(detail.contains(sshd.host_fingerprint()), "{err}");

    let wrong = "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    let err = Sftp::connect(&key_login(&sshd, HostKey::Pinned(wrong.into())))
        .err()
        .unwrap();
    assert!(
        matches!(&err, Error::HostKey(m) if m.contains(wrong) && m.contains(sshd.host_fingerprint())),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("pin its current host key"),
        "{err}"
    );

    let garbage = Sftp::connect(&key_login(
        &sshd,
        HostKey::Pinned("ssh-ed25519 nonsense".into()),
    ))
    .err()
    .unwrap();
    assert!(matches!(garbage, Error::HostKey(_)), "{garbage:?}");

    // The right fingerprint gets in.
    let pinned = HostKey::Pinned(sshd.host_fingerprint().into());
    assert!(Sftp::connect(&key_login(&sshd, pinned)).is_ok());
}

#[test]
fn a_closed_port_or_a_server_that_is_gone_is_a_connection_error() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let login = Login {
        host: "127.0.0.1".into(),
        port,
        username: "u".into(),
        credential: Credential::Password("p".into()),
        host_key: HostKey::AcceptAny,
    };
    let err = Sftp::connect(&login).err().unwrap();
    assert!(
        matches!(&err, Error::Connection(m) if m.contains(&format!("127.0.0.1:{port}"))),
        "{err:?}"
    );

    // A session whose server dies fails its next request as a connection error.
    let mut sshd = LocalSshd::start().unwrap();
    let mut sftp = Sftp::connect(&key_login(&sshd, HostKey::AcceptAny)).unwrap();
    sftp.list_dir(sshd.files_dir().to_str().unwrap()).unwrap();
    sshd.kill();
    let err = sftp
        .list_dir(sshd.files_dir().to_str().unwrap())
        .unwrap_err();
    assert!(matches!(err, Error::Connection(_)), "{err:?}");

    // `over` runs on any stream: here a TCP stream the test connected itself.
    sshd.restart().unwrap();
    let stream = TcpStream::connect(("127.0.0.1", sshd.port())).unwrap();
    let mut sftp = Sftp::over(stream, &key_login(&sshd, HostKey::AcceptAny)).unwrap();
    assert_eq!(
        sftp.list_dir(sshd.files_dir().to_str().unwrap()).unwrap(),
        []
    );
}
