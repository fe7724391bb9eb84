//! A throwaway Redis server (Debian's `redis-server`, which `./dev setup` installs) on a
//! loopback port, for Spin replicas sharing one key-value store.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct RedisServer {
    pub url: String,
    child: Child,
}

impl RedisServer {
    /// Starts it without persistence and waits until it accepts connections.
    pub async fn start() -> RedisServer {
        let addr = crate::http::free_local_addr();
        let port = addr.rsplit(':').next().unwrap();
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
        let deadline = Instant::now() + Duration::from_secs(30);
        while tokio::net::TcpStream::connect(&addr).await.is_err() {
            assert!(
                Instant::now() < deadline,
                "redis-server did not listen on {addr}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        RedisServer {
            url: format!("redis://{addr}"),
            child,
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
