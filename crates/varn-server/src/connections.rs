//! Connections: at most so many in all and so many from one address (IPv6: one /64), counted
//! from the moment the kernel hands a connection over until it closes. A connection over
//! either cap is closed at once, before TLS or HTTP spend anything on it, so one machine
//! holding connections open (or never finishing its headers) cannot take them all.

use std::collections::HashMap;
use std::future::Ready;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum_server::accept::Accept;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use crate::ratelimit::address_key;

/// How often refusals are summed up in the log.
const LOG_EVERY: Duration = Duration::from_secs(10);

struct Counts {
    total: usize,
    per_peer: HashMap<IpAddr, usize>,
    refused_since_log: u64,
    last_log: Instant,
}

struct Inner {
    max_total: usize,
    max_per_peer: usize,
    counts: Mutex<Counts>,
    refused: AtomicU64,
}

/// Counts open connections and admits new ones within the caps.
#[derive(Clone)]
pub struct Connections(Arc<Inner>);

/// One admitted connection; dropping it (the connection closed) frees its place.
pub struct Ticket {
    conns: Connections,
    peer: IpAddr,
}

impl Connections {
    /// At most `max_total` connections, `max_per_peer` of them from one address.
    pub fn new(max_total: usize, max_per_peer: usize) -> Self {
        Connections(Arc::new(Inner {
            max_total,
            max_per_peer,
            counts: Mutex::new(Counts {
                total: 0,
                per_peer: HashMap::new(),
                refused_since_log: 0,
                last_log: Instant::now(),
            }),
            refused: AtomicU64::new(0),
        }))
    }

    /// Admits a connection from `peer`, or `None` when a cap is reached.
    pub fn admit(&self, peer: IpAddr) -> Option<Ticket> {
        let key = address_key(peer);
        let mut c = self.0.counts.lock().unwrap_or_else(|p| p.into_inner());
        let from_peer = c.per_peer.get(&key).copied().unwrap_or(0);
        if c.total >= self.0.max_total || from_peer >= self.0.max_per_peer {
            self.0.refused.fetch_add(1, Ordering::Relaxed);
            c.refused_since_log += 1;
            if c.last_log.elapsed() >= LOG_EVERY {
                tracing::warn!(
                    refused = c.refused_since_log,
                    open = c.total,
                    "connections refused: a connection cap was reached (see [limits])"
                );
                c.refused_since_log = 0;
                c.last_log = Instant::now();
            }
            return None;
        }
        c.total += 1;
        *c.per_peer.entry(key).or_insert(0) += 1;
        Some(Ticket {
            conns: self.clone(),
            peer: key,
        })
    }

    /// Connections open now.
    pub fn open(&self) -> usize {
        self.0
            .counts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .total
    }

    /// Connections refused since start.
    pub fn refused(&self) -> u64 {
        self.0.refused.load(Ordering::Relaxed)
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut c = self
            .conns
            .0
            .counts
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        c.total = c.total.saturating_sub(1);
        if let Some(n) = c.per_peer.get_mut(&self.peer) {
            *n -= 1;
            if *n == 0 {
                c.per_peer.remove(&self.peer);
            }
        }
    }
}

/// The acceptor that applies the caps (and turns Nagle off: alarms are small and urgent).
#[derive(Clone)]
pub struct Guard(pub Connections);

/// A connection stream that holds its place while it is open.
pub struct Counted<S> {
    inner: S,
    _ticket: Ticket,
}

impl<S> Accept<TcpStream, S> for Guard {
    type Stream = Counted<TcpStream>;
    type Service = S;
    type Future = Ready<io::Result<(Self::Stream, Self::Service)>>;

    fn accept(&self, stream: TcpStream, service: S) -> Self::Future {
        let admitted = stream
            .peer_addr()
            .ok()
            .and_then(|peer| self.0.admit(peer.ip()));
        std::future::ready(match admitted {
            Some(ticket) => {
                let _ = stream.set_nodelay(true);
                Ok((
                    Counted {
                        inner: stream,
                        _ticket: ticket,
                    },
                    service,
                ))
            }
            None => Err(io::Error::other("connection cap reached")),
        })
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Counted<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Counted<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_per_peer_and_in_all_and_frees_on_close() {
        let c = Connections::new(3, 2);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let a1 = c.admit(a).unwrap();
        let _a2 = c.admit(a).unwrap();
        assert!(c.admit(a).is_none(), "two from one address");
        let _b1 = c.admit(b).unwrap();
        assert!(c.admit(b).is_none(), "three in all");
        assert_eq!((c.open(), c.refused()), (3, 2));
        drop(a1);
        assert!(c.admit(b).is_some(), "a closed connection frees its place");
    }

    #[test]
    fn one_ipv6_64_is_one_peer() {
        let c = Connections::new(100, 1);
        let _x = c.admit("2001:db8::1".parse().unwrap()).unwrap();
        assert!(c.admit("2001:db8::ffff".parse().unwrap()).is_none());
        assert!(c.admit("2001:db8:0:1::1".parse().unwrap()).is_some());
    }
}
