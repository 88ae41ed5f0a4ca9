//! What another machine looks like on loopback, for the attack tests and `varn-siege`: the
//! whole of 127.0.0.0/8 is this machine, so each address there stands for a machine of its
//! own (an attacker's, or another person's), and the server counts it as one.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use tokio::net::{TcpSocket, TcpStream};

/// An address, e.g. `ip("127.0.0.2")`.
pub fn ip(s: &str) -> IpAddr {
    s.parse().expect("an IP address")
}

/// A TCP connection to `to` from the loopback address `from`.
pub async fn connect_from(from: IpAddr, to: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(from, 0))?;
    socket.connect(to).await
}

/// An HTTP client whose connections come from `from`.
pub fn client_from(from: IpAddr) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(from)
        .timeout(Duration::from_secs(30))
        .build()
        .expect("http client")
}

/// The `p`-th percentile (0 to 1) of durations sorted in ascending order.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}
