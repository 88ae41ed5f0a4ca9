//! A TCP proxy between a client and the server that misbehaves on purpose: refuses, swallows,
//! drops answers, delays or resets connections. Tests switch its mode while they run; every
//! connection open when the mode changes is cut, as a real outage would.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::Rng;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// How the proxy treats new connections.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fault {
    /// Forward everything.
    Pass,
    /// Reset every connection at once (the server is down).
    Refuse,
    /// Accept and read, never answer (the server hangs).
    Blackhole,
    /// Forward the request, then cut the connection when the answer comes: the server did
    /// the work, the client never hears of it.
    DropResponse,
    /// Forward after a delay.
    Delay(Duration),
    /// Forward, but cut the connection at `percent` of the requests: half of those before the
    /// server has the request, half after (the answer is lost). Decided per request (per chunk
    /// the client sends), so kept-alive connections are hit as often as new ones.
    Flaky {
        /// Share of requests to cut, 0–100.
        percent: u8,
    },
    /// Misbehave at `percent` of the requests (decided once per HTTP request, at its first
    /// bytes), in equal shares: lose the request, lose the answer, answer 500, answer 429 with
    /// `Retry-After: 1`, or forward after 100 ms.
    Chaos {
        /// Share of requests to misbehave on, 0–100.
        percent: u8,
    },
}

/// An HTTP error answer the proxy makes up itself, closing the connection after it.
fn canned(status: &str, extra: &str) -> Vec<u8> {
    let body = format!(
        r#"{{"type":"urn:varn:problem:proxy","title":"{status}","status":{},"detail":"made up by the fault proxy"}}"#,
        &status[..3]
    );
    format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/problem+json\r\ncontent-length: {}\r\n{extra}connection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Counts of what the proxy did.
#[derive(Debug, Default)]
pub struct Stats {
    /// Connections accepted.
    pub connections: AtomicU64,
    /// Connections cut on purpose.
    pub cut: AtomicU64,
}

/// A running proxy.
pub struct FaultProxy {
    /// The proxy's address; point the client here.
    pub addr: SocketAddr,
    mode: Arc<Mutex<Fault>>,
    generation: watch::Sender<u64>,
    /// What it did.
    pub stats: Arc<Stats>,
    task: tokio::task::JoinHandle<()>,
}

impl FaultProxy {
    /// Starts a proxy on `127.0.0.1:0` in front of `upstream`.
    pub async fn start(upstream: SocketAddr, mode: Fault) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy address");
        let mode = Arc::new(Mutex::new(mode));
        let (generation, _) = watch::channel(0u64);
        let stats = Arc::new(Stats::default());
        let task = {
            let (mode, generation, stats) = (mode.clone(), generation.clone(), stats.clone());
            tokio::spawn(async move {
                while let Ok((client, _)) = listener.accept().await {
                    stats.connections.fetch_add(1, Ordering::Relaxed);
                    let m = *mode.lock().unwrap_or_else(|p| p.into_inner());
                    let cut = generation.subscribe();
                    let stats = stats.clone();
                    tokio::spawn(handle(client, upstream, m, cut, stats));
                }
            })
        };
        FaultProxy {
            addr,
            mode,
            generation,
            stats,
            task,
        }
    }

    /// The base URL through the proxy.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Switches the mode; connections open now are cut.
    pub fn set(&self, mode: Fault) {
        *self.mode.lock().unwrap_or_else(|p| p.into_inner()) = mode;
        self.generation.send_modify(|g| *g += 1);
    }

    /// Connections cut on purpose so far.
    pub fn cut(&self) -> u64 {
        self.stats.cut.load(Ordering::Relaxed)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
        self.generation.send_modify(|g| *g += 1);
    }
}

// tokio deprecates SO_LINGER because a non-zero linger blocks on drop; a zero linger does not
// block, it resets at once, which is the fault wanted here.
#[allow(deprecated)]
fn reset(stream: TcpStream) {
    // Linger 0 makes close send RST: the client sees "connection reset".
    let _ = stream.set_linger(Some(Duration::ZERO));
    drop(stream);
}

async fn handle(
    client: TcpStream,
    upstream: SocketAddr,
    mode: Fault,
    mut cut: watch::Receiver<u64>,
    stats: Arc<Stats>,
) {
    let _ = client.set_nodelay(true);
    match mode {
        Fault::Flaky { percent } => flaky(client, upstream, percent, cut, stats).await,
        Fault::Chaos { percent } => chaos(client, upstream, percent, cut, stats).await,
        Fault::Refuse => {
            stats.cut.fetch_add(1, Ordering::Relaxed);
            reset(client);
        }
        Fault::Blackhole => {
            let mut client = client;
            let mut buf = [0u8; 8192];
            loop {
                tokio::select! {
                    r = client.read(&mut buf) => if matches!(r, Ok(0) | Err(_)) { return },
                    _ = cut.changed() => { reset(client); return }
                }
            }
        }
        Fault::DropResponse => {
            let Ok(server) = TcpStream::connect(upstream).await else {
                return reset(client);
            };
            let (mut cr, _cw) = client.into_split();
            let (mut sr, mut sw) = server.into_split();
            let forward = async {
                let mut buf = [0u8; 16384];
                loop {
                    match cr.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => {
                            if sw.write_all(&buf[..n]).await.is_err() {
                                return;
                            }
                        }
                    }
                }
            };
            let answer = async {
                let mut first = [0u8; 1];
                let _ = sr.read(&mut first).await;
            };
            tokio::select! {
                _ = forward => {}
                _ = answer => {}
                _ = cut.changed() => {}
            }
            stats.cut.fetch_add(1, Ordering::Relaxed);
            // Dropping the halves closes both sides; reunite to reset the client.
            if let Ok(client) = cr.reunite(_cw) {
                reset(client);
            }
        }
        Fault::Pass | Fault::Delay(_) => {
            if let Fault::Delay(d) = mode {
                tokio::time::sleep(d).await;
            }
            let Ok(mut server) = TcpStream::connect(upstream).await else {
                return reset(client);
            };
            let _ = server.set_nodelay(true);
            let mut client = client;
            tokio::select! {
                _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                _ = cut.changed() => {
                    stats.cut.fetch_add(1, Ordering::Relaxed);
                    reset(client);
                }
            }
        }
    }
}

/// Forwards both ways, rolling the dice for every chunk the client sends.
async fn flaky(
    client: TcpStream,
    upstream: SocketAddr,
    percent: u8,
    mut cut: watch::Receiver<u64>,
    stats: Arc<Stats>,
) {
    let Ok(server) = TcpStream::connect(upstream).await else {
        return reset(client);
    };
    let _ = server.set_nodelay(true);
    let (mut cr, mut cw) = client.into_split();
    let (mut sr, mut sw) = server.into_split();
    let mut from_client = [0u8; 16384];
    let mut from_server = [0u8; 16384];
    let mut lose_answer = false;
    loop {
        tokio::select! {
            r = cr.read(&mut from_client) => {
                let n = match r { Ok(0) | Err(_) => return, Ok(n) => n };
                let roll: u8 = rand::rng().random_range(0..100);
                if roll < percent / 2 {
                    break; // the request is lost on the way
                }
                if roll < percent {
                    lose_answer = true; // the server gets it; its answer will be lost
                }
                if sw.write_all(&from_client[..n]).await.is_err() {
                    return;
                }
            }
            r = sr.read(&mut from_server) => {
                let n = match r { Ok(0) | Err(_) => return, Ok(n) => n };
                if lose_answer {
                    break;
                }
                if cw.write_all(&from_server[..n]).await.is_err() {
                    return;
                }
            }
            _ = cut.changed() => break,
        }
    }
    stats.cut.fetch_add(1, Ordering::Relaxed);
    if let Ok(client) = cr.reunite(cw) {
        reset(client);
    }
}

/// Forwards both ways, rolling the dice once per request (at its first bytes).
async fn chaos(
    client: TcpStream,
    upstream: SocketAddr,
    percent: u8,
    mut cut: watch::Receiver<u64>,
    stats: Arc<Stats>,
) {
    let Ok(server) = TcpStream::connect(upstream).await else {
        return reset(client);
    };
    let _ = server.set_nodelay(true);
    let (mut cr, mut cw) = client.into_split();
    let (mut sr, mut sw) = server.into_split();
    let mut from_client = [0u8; 16384];
    let mut from_server = [0u8; 16384];
    let mut lose_answer = false;
    let mut new_request = true;
    loop {
        tokio::select! {
            r = cr.read(&mut from_client) => {
                let n = match r { Ok(0) | Err(_) => return, Ok(n) => n };
                if new_request {
                    new_request = false;
                    let roll: u16 = rand::rng().random_range(0..500);
                    let p = u16::from(percent.min(100));
                    match roll {
                        r if r < p => break, // the request is lost on the way
                        r if r < 2 * p => lose_answer = true,
                        r if r < 4 * p => {
                            let answer = if r < 3 * p {
                                canned("500 Internal Server Error", "")
                            } else {
                                canned("429 Too Many Requests", "retry-after: 1\r\n")
                            };
                            stats.cut.fetch_add(1, Ordering::Relaxed);
                            let _ = cw.write_all(&answer).await;
                            let _ = cw.shutdown().await;
                            return;
                        }
                        r if r < 5 * p => tokio::time::sleep(Duration::from_millis(100)).await,
                        _ => {}
                    }
                }
                if sw.write_all(&from_client[..n]).await.is_err() {
                    return;
                }
            }
            r = sr.read(&mut from_server) => {
                let n = match r { Ok(0) | Err(_) => return, Ok(n) => n };
                if lose_answer {
                    break;
                }
                // The answer is coming: whatever the client sends next is a new request.
                new_request = true;
                if cw.write_all(&from_server[..n]).await.is_err() {
                    return;
                }
            }
            _ = cut.changed() => break,
        }
    }
    stats.cut.fetch_add(1, Ordering::Relaxed);
    if let Ok(client) = cr.reunite(cw) {
        reset(client);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn echo_server() -> SocketAddr {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = l.accept().await {
                tokio::spawn(async move {
                    let mut buf = [0u8; 64];
                    while let Ok(n) = s.read(&mut buf).await {
                        if n == 0 || s.write_all(&buf[..n]).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        addr
    }

    async fn roundtrip(addr: SocketAddr) -> std::io::Result<Vec<u8>> {
        let mut s = TcpStream::connect(addr).await?;
        s.write_all(b"ping").await?;
        let mut buf = vec![0u8; 4];
        tokio::time::timeout(Duration::from_millis(500), s.read_exact(&mut buf))
            .await
            .map_err(|_| std::io::Error::other("timeout"))??;
        Ok(buf)
    }

    #[tokio::test]
    async fn modes_behave_as_named() {
        let upstream = echo_server().await;
        let p = FaultProxy::start(upstream, Fault::Pass).await;
        assert_eq!(roundtrip(p.addr).await.unwrap(), b"ping");
        p.set(Fault::Refuse);
        assert!(roundtrip(p.addr).await.is_err());
        p.set(Fault::Blackhole);
        assert!(roundtrip(p.addr).await.is_err());
        p.set(Fault::DropResponse);
        assert!(roundtrip(p.addr).await.is_err());
        p.set(Fault::Delay(Duration::from_millis(50)));
        assert_eq!(roundtrip(p.addr).await.unwrap(), b"ping");
        p.set(Fault::Pass);
        assert_eq!(roundtrip(p.addr).await.unwrap(), b"ping");
        assert!(p.cut() >= 2);
        p.set(Fault::Flaky { percent: 100 });
        assert!(roundtrip(p.addr).await.is_err(), "every request cut");
        p.set(Fault::Flaky { percent: 0 });
        assert_eq!(roundtrip(p.addr).await.unwrap(), b"ping");
    }
}
