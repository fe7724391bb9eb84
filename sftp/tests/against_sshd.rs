//! The client against a real OpenSSH sshd on loopback.

use cordial_sftp::sshd::{LocalSshd, password_account};
use cordial_sftp::{Credential, HostKeyPolicy, SftpClient, SftpFailure, Target};

fn key_target(sshd: &LocalSshd, folder: &str, host_key: HostKeyPolicy) -> Target {
    Target {
        host: "127.0.0.1".into(),
        port: sshd.port(),
        username: sshd.user(),
        credential: Credential::PrivateKey(sshd.client_key()),
        folder: folder.into(),
        host_key,
    }
}

fn pinned(sshd: &LocalSshd) -> HostKeyPolicy {
    HostKeyPolicy::Pinned(sshd.host_fingerprint().into())
}

/// A client of the sshd's files folder, logging in with the key, the host key pinned.
fn key_client(sshd: &LocalSshd) -> SftpClient {
    let folder = sshd.files_dir();
    SftpClient::new(key_target(sshd, folder.to_str().unwrap(), pinned(sshd)))
}

/// The names in the client's folder.
async fn names(client: &mut SftpClient) -> Vec<String> {
    let entries = client.list_dir("").await.unwrap();
    entries.into_iter().map(|e| e.name).collect()
}

async fn upload(client: &mut SftpClient, path: &str, bytes: &[u8]) -> Result<u64, SftpFailure> {
    let mut up = client.create(path).await?;
    up.write(bytes).await?;
    client.finish(up).await
}

#[tokio::test]
async fn key_login_upload_list_read_remove() {
    let sshd = LocalSshd::start().unwrap();
    let folder = sshd.files_dir();
    let mut client = key_client(&sshd);

    let mut up = client.create("a.csv").await.unwrap();
    up.write(b"x,y\n").await.unwrap();
    // Not visible under its final name until finished.
    assert!(!folder.join("a.csv").exists());
    up.write("1,é\n".as_bytes()).await.unwrap();
    assert_eq!(client.finish(up).await.unwrap(), 9);
    assert_eq!(
        std::fs::read_to_string(folder.join("a.csv")).unwrap(),
        "x,y\n1,é\n"
    );

    // Replacing a file works (SFTP v3 rename alone would refuse).
    upload(&mut client, "a.csv", b"new\n").await.unwrap();
    assert_eq!(
        std::fs::read_to_string(folder.join("a.csv")).unwrap(),
        "new\n"
    );

    assert_eq!(names(&mut client).await, ["a.csv"]);

    let mut down = client.open("a.csv").await.unwrap();
    assert_eq!(down.read(2).await.unwrap(), b"ne");
    assert_eq!(down.read(100).await.unwrap(), b"w\n");
    assert!(down.read(100).await.unwrap().is_empty());

    client.remove("a.csv").await.unwrap();
    assert!(!folder.join("a.csv").exists());
    assert!(matches!(
        client.open("a.csv").await,
        Err(SftpFailure::NotFound(_))
    ));
}

#[tokio::test]
async fn the_folder_cannot_be_left() {
    let sshd = LocalSshd::start().unwrap();
    std::os::unix::fs::symlink("/etc", sshd.files_dir().join("escape")).unwrap();
    let mut client = key_client(&sshd);
    let mut attempts = Vec::new();
    for path in ["/etc/hostname", "../authorized_keys", "escape/hostname"] {
        attempts.push((format!("open {path}"), client.open(path).await.map(drop)));
    }
    attempts.push((
        "create".into(),
        client.create("escape/x.csv").await.map(drop),
    ));
    attempts.push(("list".into(), client.list_dir("escape").await.map(drop)));
    attempts.push(("remove".into(), client.remove("escape/passwd").await));
    for (attempt, got) in attempts {
        assert!(
            matches!(got, Err(SftpFailure::OutsideRoot(_))),
            "{attempt}: {got:?}"
        );
    }
}

#[tokio::test]
async fn an_unpinned_or_changed_host_key_is_refused_with_the_fingerprint() {
    let sshd = LocalSshd::start().unwrap();
    let folder = sshd.files_dir();
    let folder = folder.to_str().unwrap();

    let mut unpinned = SftpClient::new(key_target(&sshd, folder, HostKeyPolicy::Unpinned));
    let err = unpinned.list_dir("").await.unwrap_err().to_string();
    assert!(
        err.contains("not pinned") && err.contains(sshd.host_fingerprint()),
        "{err}"
    );

    let wrong = "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    let mut changed = SftpClient::new(key_target(
        &sshd,
        folder,
        HostKeyPolicy::Pinned(wrong.into()),
    ));
    let err = changed.list_dir("").await.unwrap_err().to_string();
    assert!(
        err.contains("does not match") && err.contains(wrong),
        "{err}"
    );
    assert!(err.contains(sshd.host_fingerprint()), "{err}");
}

#[tokio::test]
async fn password_login_and_a_wrong_password() {
    let sshd = LocalSshd::start().unwrap();
    let (user, password) = password_account().unwrap();
    let target = |password: String| Target {
        host: "127.0.0.1".into(),
        port: sshd.port(),
        username: user.clone(),
        credential: Credential::Password(password),
        folder: String::new(),
        host_key: pinned(&sshd),
    };
    let mut good = SftpClient::new(target(password.clone()));
    let home = good.resolved_root().await.unwrap();
    assert!(home.ends_with(&user), "{home}");
    let name = format!("pw-{}.txt", std::process::id());
    upload(&mut good, &name, b"hello").await.unwrap();
    good.remove(&name).await.unwrap();

    let mut bad = SftpClient::new(target(format!("{password}-wrong")));
    let err = bad.list_dir("").await.unwrap_err();
    assert!(matches!(err, SftpFailure::Connection(_)), "{err:?}");
    assert!(err.to_string().contains("refused the password"), "{err}");
}

#[tokio::test]
async fn a_dropped_connection_is_reopened_and_an_unreachable_server_is_named() {
    let mut sshd = LocalSshd::start().unwrap();
    let mut client = key_client(&sshd);
    upload(&mut client, "one.txt", b"1").await.unwrap();

    sshd.restart().unwrap();
    // The old connection died with the server; the next operation reconnects by itself.
    assert_eq!(names(&mut client).await, ["one.txt"]);

    sshd.kill();
    let err = client.list_dir("").await.unwrap_err();
    assert!(matches!(err, SftpFailure::Connection(_)), "{err:?}");
    assert!(
        err.to_string().contains(&format!(":{}", sshd.port())),
        "{err}"
    );
}

/// Writes `chunks` to a new upload of `path` and finishes it: the first failure, if any.
async fn upload_chunks(
    client: &mut SftpClient,
    path: &str,
    chunks: &[Vec<u8>],
    before: impl FnOnce(),
) -> Result<u64, SftpFailure> {
    let mut up = client.create(path).await?;
    up.write(&chunks[0]).await?;
    before();
    for chunk in &chunks[1..] {
        up.write(chunk).await?;
    }
    client.finish(up).await
}

#[tokio::test]
async fn many_chunks_arrive_in_order_and_a_connection_lost_mid_upload_publishes_nothing() {
    let mut sshd = LocalSshd::start().unwrap();
    let folder = sshd.files_dir();
    let mut client = key_client(&sshd);
    // Many chunks, each one different: the file is exactly their concatenation.
    let chunks: Vec<Vec<u8>> = (0..64u8).map(|i| vec![i; 64 << 10]).collect();
    let written = upload_chunks(&mut client, "big.bin", &chunks, || {}).await;
    assert_eq!(written.unwrap(), 64 * (64 << 10));
    assert_eq!(
        std::fs::read(folder.join("big.bin")).unwrap(),
        chunks.concat()
    );

    // The server goes away after the first chunk: a later write or the finish says so,
    // and the file is never published.
    let err = upload_chunks(&mut client, "lost.bin", &chunks, || sshd.kill())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("lost.bin"), "{err}");
    assert!(!folder.join("lost.bin").exists());
}

/// What reading one chunk ahead must keep (its speed is the activity benchmark's to show):
/// a file of many chunks comes back whole and in order, and a server that goes away
/// mid-download is an error on a later read (the chunk read ahead may still arrive first),
/// never an early end of the file.
#[tokio::test]
async fn a_download_reads_ahead_in_order_and_a_lost_server_is_an_error_not_an_end() {
    let mut sshd = LocalSshd::start().unwrap();
    let folder = sshd.files_dir();
    let chunk = 256 << 10;
    let data: Vec<u8> = (0..64 * chunk).map(|i| (i / 997 % 251) as u8).collect();
    std::fs::write(folder.join("big.bin"), &data).unwrap();
    let mut client = key_client(&sshd);

    let mut down = client.open("big.bin").await.unwrap();
    let mut read = Vec::new();
    loop {
        let got = down.read(chunk).await.unwrap();
        if got.is_empty() {
            break;
        }
        assert!(got.len() <= chunk);
        read.extend_from_slice(&got);
    }
    assert_eq!(read.len(), data.len());
    assert!(read == data, "the chunks came back out of order");

    let mut down = client.open("big.bin").await.unwrap();
    let first = down.read(chunk).await.unwrap();
    assert_eq!(first, data[..chunk]);
    sshd.kill();
    let mut total = first.len();
    let err = loop {
        match down.read(chunk).await {
            Ok(got) if got.is_empty() => panic!("the download ended early at {total} bytes"),
            Ok(got) => total += got.len(),
            Err(e) => break e,
        }
    };
    assert!(
        total < data.len(),
        "everything was read before the server went away"
    );
    assert!(err.to_string().contains("big.bin"), "{err}");
    // Asked again, the download still says it failed: it never turns into an end.
    assert!(down.read(chunk).await.is_err());
}
