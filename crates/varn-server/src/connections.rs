//! Connections: at most so many in all and so many from one address (IPv6: one /64), counted
//! from the moment the kernel hands a connection over until it closes.
//!
//! A connection that holds no request (it has not finished its headers, or it waits between
//! requests on keep-alive) is *idle*; one whose request is being handled or answered is
//! *busy*. When a cap is reached, the newcomer is not refused: an idle connection of that
//! address (at the per-address cap) or of the address holding the most (at the total cap)
//! is closed in its place: first one that has never carried a request, oldest first, then
//! the one idle the longest. So a client that holds half-open connections, whether it
//! shares the address of the person raising an alarm or not, only ever closes its own: a
//! new connection is refused only when every connection it could replace is busy with a
//! real request, each bounded by the request deadlines.
//!
//! A trusted proxy ([`crate::front`]) carries many clients over its connections, so it has
//! no per-address cap (only the total); the proxy keeps its clients apart itself.

use std::collections::HashMap;
use std::future::{Future, Ready};
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::http::{Request, Response};
use axum_server::accept::Accept;
use futures_util::task::AtomicWaker;
use http_body::{Body, Frame, SizeHint};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use crate::front::TrustedProxies;
use crate::ratelimit::address_key;

/// How often refusals and closings are summed up in the log.
const LOG_EVERY: Duration = Duration::from_secs(10);
/// A connection that has carried a request is not closed for a newer one until it has been
/// idle this long: its client may be sending the next request on it right now.
const KEEP_ALIVE_GRACE_MS: u64 = 1000;

/// One open connection, as the caps see it.
struct Conn {
    id: u64,
    peer: IpAddr,
    /// Requests being handled or answered on it now.
    busy: AtomicUsize,
    /// Whether it has carried a request (a half-open connection never has).
    served: AtomicBool,
    /// When it last started or finished a request (or opened), in ms since [`Inner::epoch`].
    active_ms: AtomicU64,
    /// Closed to make room for a newer connection.
    evicted: AtomicBool,
    /// Its reader, woken to notice `evicted`.
    waker: AtomicWaker,
}

impl Conn {
    fn idle(&self) -> bool {
        self.busy.load(Ordering::SeqCst) == 0
    }

    /// Whether it may be closed for a newer connection: idle, and if it carried a request,
    /// idle for [`KEEP_ALIVE_GRACE_MS`].
    fn closable(&self, now_ms: u64) -> bool {
        let (served, active) = self.closing_order();
        self.idle() && (!served || now_ms.saturating_sub(active) >= KEEP_ALIVE_GRACE_MS)
    }

    /// The order in which idle connections are closed: never used first (oldest first), then
    /// the least recently active.
    fn closing_order(&self) -> (bool, u64) {
        (
            self.served.load(Ordering::SeqCst),
            self.active_ms.load(Ordering::SeqCst),
        )
    }

    fn evict(&self) {
        self.evicted.store(true, Ordering::SeqCst);
        self.waker.wake();
    }
}

#[derive(Default)]
struct Counts {
    total: usize,
    /// Per address, oldest first.
    per_peer: HashMap<IpAddr, Vec<Arc<Conn>>>,
    refused_since_log: u64,
    evicted_since_log: u64,
    last_log: Option<Instant>,
}

impl Counts {
    /// Takes the first idle connection of `peer` in [`Conn::closing_order`] out of the counts
    /// (one that carried a request only once it has been idle for a while).
    fn take_idle(&mut self, peer: IpAddr, now_ms: u64) -> Option<Arc<Conn>> {
        let list = self.per_peer.get_mut(&peer)?;
        let (i, _) = list
            .iter()
            .enumerate()
            .filter(|(_, c)| c.closable(now_ms))
            .min_by_key(|(_, c)| c.closing_order())?;
        let conn = list.remove(i);
        if list.is_empty() {
            self.per_peer.remove(&peer);
        }
        self.total -= 1;
        Some(conn)
    }

    /// An idle connection of the address that holds the most (an address without an idle one
    /// is skipped).
    fn take_idle_of_largest(&mut self, now_ms: u64) -> Option<Arc<Conn>> {
        let mut peers: Vec<(usize, IpAddr)> = self
            .per_peer
            .iter()
            .map(|(peer, list)| (list.len(), *peer))
            .collect();
        peers.sort_unstable_by_key(|(n, _)| std::cmp::Reverse(*n));
        peers
            .into_iter()
            .find_map(|(_, peer)| self.take_idle(peer, now_ms))
    }

    fn log(&mut self, open: usize) {
        let due = self.last_log.is_none_or(|t| t.elapsed() >= LOG_EVERY);
        if due && (self.refused_since_log > 0 || self.evicted_since_log > 0) {
            tracing::warn!(
                refused = self.refused_since_log,
                closed_idle = self.evicted_since_log,
                open,
                "a connection cap was reached: idle connections closed for newer ones, or \
                 refused when every one was busy (see [limits])"
            );
            self.refused_since_log = 0;
            self.evicted_since_log = 0;
            self.last_log = Some(Instant::now());
        }
    }
}

struct Inner {
    max_total: usize,
    max_per_peer: usize,
    proxies: TrustedProxies,
    counts: Mutex<Counts>,
    epoch: Instant,
    next_id: AtomicU64,
    refused: AtomicU64,
    evicted: AtomicU64,
}

/// Counts open connections and admits new ones within the caps.
#[derive(Clone)]
pub struct Connections(Arc<Inner>);

/// One admitted connection; dropping it (the connection closed) frees its place.
pub struct Ticket {
    conns: Connections,
    conn: Arc<Conn>,
}

impl Connections {
    /// At most `max_total` connections, `max_per_peer` of them from one address (none for a
    /// trusted proxy).
    pub fn new(max_total: usize, max_per_peer: usize, proxies: TrustedProxies) -> Self {
        Connections(Arc::new(Inner {
            max_total,
            max_per_peer,
            proxies,
            counts: Mutex::default(),
            epoch: Instant::now(),
            next_id: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            evicted: AtomicU64::new(0),
        }))
    }

    /// Admits a connection from `peer`, closing an idle one in its place when a cap is
    /// reached, or `None` when every connection it could replace is busy.
    pub fn admit(&self, peer: IpAddr) -> Option<Ticket> {
        let key = address_key(peer);
        let capped = !self.0.proxies.trusts(peer);
        let now_ms = self.now_ms();
        let mut c = self.0.counts.lock().unwrap_or_else(|p| p.into_inner());
        let mut closed = Vec::new();
        let from_peer = c.per_peer.get(&key).map_or(0, Vec::len);
        if capped && from_peer >= self.0.max_per_peer {
            match c.take_idle(key, now_ms) {
                Some(old) => closed.push(old),
                None => return self.refuse(&mut c),
            }
        }
        if c.total >= self.0.max_total {
            match c.take_idle_of_largest(now_ms) {
                Some(old) => closed.push(old),
                None => {
                    // Put back what was taken for the per-address cap: nothing changes.
                    for old in closed {
                        c.total += 1;
                        c.per_peer.entry(old.peer).or_default().insert(0, old);
                    }
                    return self.refuse(&mut c);
                }
            }
        }
        for old in &closed {
            old.evict();
        }
        c.evicted_since_log += closed.len() as u64;
        self.0
            .evicted
            .fetch_add(closed.len() as u64, Ordering::Relaxed);
        let conn = Arc::new(Conn {
            id: self.0.next_id.fetch_add(1, Ordering::Relaxed),
            peer: key,
            busy: AtomicUsize::new(0),
            served: AtomicBool::new(false),
            active_ms: AtomicU64::new(now_ms),
            evicted: AtomicBool::new(false),
            waker: AtomicWaker::new(),
        });
        c.total += 1;
        c.per_peer.entry(key).or_default().push(conn.clone());
        let open = c.total;
        c.log(open);
        Some(Ticket {
            conns: self.clone(),
            conn,
        })
    }

    fn now_ms(&self) -> u64 {
        self.0.epoch.elapsed().as_millis() as u64
    }

    fn refuse(&self, c: &mut Counts) -> Option<Ticket> {
        self.0.refused.fetch_add(1, Ordering::Relaxed);
        c.refused_since_log += 1;
        let open = c.total;
        c.log(open);
        None
    }

    /// Connections open now (those closed for newer ones no longer count).
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

    /// Idle connections closed for newer ones since start.
    pub fn evicted(&self) -> u64 {
        self.0.evicted.load(Ordering::Relaxed)
    }
}

impl Ticket {
    /// Marks a request in progress on this connection until the guard is dropped.
    fn busy(&self) -> BusyGuard {
        let conn = &self.conn;
        conn.busy.fetch_add(1, Ordering::SeqCst);
        conn.served.store(true, Ordering::SeqCst);
        conn.active_ms.store(self.conns.now_ms(), Ordering::SeqCst);
        BusyGuard {
            conn: conn.clone(),
            conns: self.conns.clone(),
        }
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        if self.conn.evicted.load(Ordering::SeqCst) {
            // Already out of the counts.
            return;
        }
        let mut c = self
            .conns
            .0
            .counts
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let peer = self.conn.peer;
        if let Some(list) = c.per_peer.get_mut(&peer) {
            if let Some(i) = list.iter().position(|x| x.id == self.conn.id) {
                list.remove(i);
                if list.is_empty() {
                    c.per_peer.remove(&peer);
                }
                c.total = c.total.saturating_sub(1);
            }
        }
    }
}

/// A request in progress on a connection; the connection is idle again when every guard is
/// gone (the response body sent, or the request dropped).
struct BusyGuard {
    conn: Arc<Conn>,
    conns: Connections,
}

impl Drop for BusyGuard {
    fn drop(&mut self) {
        self.conn
            .active_ms
            .store(self.conns.now_ms(), Ordering::SeqCst);
        self.conn.busy.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The acceptor that applies the caps (and turns Nagle off: alarms are small and urgent).
#[derive(Clone)]
pub struct Guard(pub Connections);

/// A connection stream that holds its place while it is open, and ends when it is closed
/// for a newer connection.
pub struct Counted<S> {
    inner: S,
    ticket: Arc<Ticket>,
}

impl<S> Accept<TcpStream, S> for Guard {
    type Stream = Counted<TcpStream>;
    type Service = Tracked<S>;
    type Future = Ready<io::Result<(Self::Stream, Self::Service)>>;

    fn accept(&self, stream: TcpStream, service: S) -> Self::Future {
        let admitted = stream
            .peer_addr()
            .ok()
            .and_then(|peer| self.0.admit(peer.ip()));
        std::future::ready(match admitted {
            Some(ticket) => {
                let _ = stream.set_nodelay(true);
                let ticket = Arc::new(ticket);
                Ok((
                    Counted {
                        inner: stream,
                        ticket: ticket.clone(),
                    },
                    Tracked {
                        inner: service,
                        ticket,
                    },
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
        let conn = &self.ticket.conn;
        conn.waker.register(cx.waker());
        if conn.evicted.load(Ordering::SeqCst) {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "closed for a newer connection",
            )));
        }
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

/// A connection's service that marks the connection busy from a request's headers until its
/// response body is sent.
#[derive(Clone)]
pub struct Tracked<S> {
    inner: S,
    ticket: Arc<Ticket>,
}

impl<S, ReqBody, ResBody> tower_service::Service<Request<ReqBody>> for Tracked<S>
where
    S: tower_service::Service<Request<ReqBody>, Response = Response<ResBody>>,
    S::Future: Send + 'static,
{
    type Response = Response<TrackedBody<ResBody>>;
    type Error = S::Error;
    type Future =
        Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send + 'static>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        let guard = self.ticket.busy();
        let answer = self.inner.call(req);
        Box::pin(async move {
            let res = answer.await?;
            Ok(res.map(|body| TrackedBody {
                inner: body,
                _guard: guard,
            }))
        })
    }
}

/// A response body that keeps its connection busy until it is sent (or dropped).
pub struct TrackedBody<B> {
    inner: B,
    _guard: BusyGuard,
}

impl<B: Body + Unpin> Body for TrackedBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn at_the_address_cap_the_oldest_idle_connection_makes_room() {
        let c = Connections::new(100, 2, TrustedProxies::none());
        let a = ip("192.0.2.1");
        let a1 = c.admit(a).unwrap();
        let a2 = c.admit(a).unwrap();
        let a3 = c.admit(a).expect("the newcomer is admitted");
        assert!(
            a1.conn.evicted.load(Ordering::SeqCst),
            "the oldest is closed"
        );
        assert!(!a2.conn.evicted.load(Ordering::SeqCst));
        assert_eq!((c.open(), c.evicted(), c.refused()), (2, 1, 0));
        // Busy connections are not closed: with both busy, a newcomer is refused.
        let _b2 = a2.busy();
        let _b3 = a3.busy();
        assert!(c.admit(a).is_none());
        assert_eq!(c.refused(), 1);
        drop(a1); // the closed one leaving changes nothing
        assert_eq!(c.open(), 2);
        drop(_b2);
        assert!(
            c.admit(a).is_none(),
            "a2 just answered: its client may send again"
        );
        std::thread::sleep(Duration::from_millis(KEEP_ALIVE_GRACE_MS + 50));
        let a4 = c.admit(a).expect("a2 has been idle a while and makes room");
        assert!(a2.conn.evicted.load(Ordering::SeqCst));
        drop((a2, a3, a4));
        assert_eq!(c.open(), 0);
    }

    #[test]
    fn a_connection_that_carried_requests_is_closed_after_those_that_never_did() {
        let c = Connections::new(100, 3, TrustedProxies::none());
        let a = ip("192.0.2.1");
        let used = c.admit(a).unwrap();
        drop(used.busy()); // one request, answered: idle again
        let half_open = c.admit(a).unwrap();
        let _newer = c.admit(a).unwrap();
        let _newest = c.admit(a).unwrap();
        assert!(half_open.conn.evicted.load(Ordering::SeqCst));
        assert!(
            !used.conn.evicted.load(Ordering::SeqCst),
            "it carried a request"
        );
        let _more = c.admit(a).unwrap();
        assert!(_newer.conn.evicted.load(Ordering::SeqCst));
        assert!(!used.conn.evicted.load(Ordering::SeqCst));
    }

    #[test]
    fn at_the_total_cap_the_largest_holder_gives_way() {
        let c = Connections::new(4, 10, TrustedProxies::none());
        let (attacker, person) = (ip("192.0.2.6"), ip("192.0.2.7"));
        let held: Vec<_> = (0..3).map(|_| c.admit(attacker).unwrap()).collect();
        let mine = c.admit(person).unwrap();
        let _busy = mine.busy();
        let again = c.admit(person).expect("the person gets in");
        assert!(held[0].conn.evicted.load(Ordering::SeqCst));
        assert!(!mine.conn.evicted.load(Ordering::SeqCst));
        assert_eq!(c.open(), 4);
        drop(again);
        assert_eq!(c.open(), 3);
    }

    #[test]
    fn nothing_changes_when_a_newcomer_is_refused() {
        let c = Connections::new(2, 1, TrustedProxies::none());
        let (a, b) = (ip("192.0.2.1"), ip("192.0.2.2"));
        let ta = c.admit(a).unwrap();
        let tb = c.admit(b).unwrap();
        let (_ba, _bb) = (ta.busy(), tb.busy());
        assert!(c.admit(a).is_none(), "a's only connection is busy");
        assert!(c.admit(ip("192.0.2.3")).is_none(), "all busy");
        assert_eq!(c.open(), 2);
        drop((_ba, _bb, ta, tb));
        assert_eq!(c.open(), 0);
    }

    #[test]
    fn a_trusted_proxy_has_only_the_total_cap_and_one_ipv6_64_is_one_peer() {
        let proxies = TrustedProxies::parse(
            &["127.0.0.1".into()],
            crate::front::ForwardedHeader::XForwardedFor,
        )
        .unwrap();
        let c = Connections::new(100, 1, proxies);
        let held: Vec<_> = (0..5).map(|_| c.admit(ip("127.0.0.1")).unwrap()).collect();
        assert!(held.iter().all(|t| !t.conn.evicted.load(Ordering::SeqCst)));
        let x = c.admit(ip("2001:db8::1")).unwrap();
        let _y = c.admit(ip("2001:db8::ffff")).unwrap();
        assert!(x.conn.evicted.load(Ordering::SeqCst), "the same /64");
        let _z = c.admit(ip("2001:db8:0:1::1")).unwrap();
        assert_eq!(c.open(), 7);
    }
}
