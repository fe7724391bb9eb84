//! A throwaway Redis server (Debian's `redis-server`, which `./dev setup` installs) on a
//! loopback port, for Spin replicas sharing one key-value store.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct RedisServer {
    pub url: String,
    addr: String,
    child: Option<Child>,
}

impl RedisServer {
    /// Starts it without persistence and waits until it accepts connections.
    pub async fn start() -> RedisServer {
        let addr = crate::http::free_local_addr();
        let mut server = RedisServer {
            url: format!("redis://{addr}"),
            addr,
            child: None,
        };
        server.launch().await;
        server
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    async fn launch(&mut self) {
        let port = self.addr.rsplit(':').next().unwrap();
        let child = Command::new("redis-server")
            .args([
                "--port",
                port,
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server runs (./dev setup installs Debian's redis-server)");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        while tokio::net::TcpStream::connect(&self.addr).await.is_err() {
            assert!(
                Instant::now() < deadline,
                "redis-server did not listen on {}",
                self.addr
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}
