//! The server's front: how clients reach it. Who the client is, and the address people use.
//!
//! Every limit that counts per address counts the client's address, and
//! behind the region's TLS proxy the TCP peer is the proxy for everyone: so from the
//! addresses in `trusted_proxies` (and only from them) the client is read from the header the
//! proxy sets (`X-Forwarded-For`, or RFC 7239 `Forwarded`), taking the rightmost hop that is
//! not itself a trusted proxy. A client can write anything to the left of that hop, never the
//! hop itself. From any other peer the headers are ignored and the peer is the client.

use std::collections::HashSet;
use std::net::IpAddr;
use std::sync::Mutex;

use axum::extract::{ConnectInfo, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;
use ipnet::IpNet;
use serde::Deserialize;

use crate::AppState;

/// How clients reach the server: through which proxies, and at which public address.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Front {
    /// The proxies whose forwarded header names the client.
    pub trusted_proxies: TrustedProxies,
    /// The address people use (`https://…`), when TLS ends at a proxy in front: the session
    /// cookie is then `__Host-` and `Secure`, and every answer carries HSTS, as when the
    /// server speaks TLS itself.
    pub public_url: Option<PublicUrl>,
}

/// The server's public address: `https://host[:port]`, nothing after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl {
    origin: String,
}

impl PublicUrl {
    /// Parses `https://varn.region.example` (a path of `/` is allowed); anything else is
    /// refused with why.
    pub fn parse(text: &str) -> Result<Self, String> {
        let url = url::Url::parse(text.trim())
            .map_err(|e| format!("public_url \"{text}\" is not a URL: {e}"))?;
        if url.scheme() != "https" {
            return Err(format!(
                "public_url \"{text}\" must start with https://: it is the address people reach \
                 the server at through the TLS proxy"
            ));
        }
        if url.host_str().is_none_or(str::is_empty)
            || !url.username().is_empty()
            || url.password().is_some()
            || url.path() != "/"
            || url.query().is_some()
            || url.fragment().is_some()
        {
            return Err(format!(
                "public_url \"{text}\" must be only https:// and the host (and a port), e.g. \
                 https://varn.region.example"
            ));
        }
        Ok(PublicUrl {
            origin: url.origin().ascii_serialization(),
        })
    }

    /// `https://host[:port]`, as a browser's `Origin` header names it.
    pub fn origin(&self) -> &str {
        &self.origin
    }
}

/// The header the proxy writes the client's address into.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ForwardedHeader {
    /// `X-Forwarded-For: client, proxy1` (nginx: `$proxy_add_x_forwarded_for`).
    #[default]
    XForwardedFor,
    /// RFC 7239 `Forwarded: for=client;proto=https, for=proxy1`.
    Forwarded,
}

impl ForwardedHeader {
    fn name(self) -> &'static str {
        match self {
            ForwardedHeader::XForwardedFor => "x-forwarded-for",
            ForwardedHeader::Forwarded => "forwarded",
        }
    }
}

/// The proxies whose forwarded header is believed.
#[derive(Debug, Default)]
pub struct TrustedProxies {
    nets: Vec<IpNet>,
    header: ForwardedHeader,
    /// Proxies already warned about a malformed header (one warning each).
    warned: Mutex<HashSet<IpAddr>>,
}

impl Clone for TrustedProxies {
    fn clone(&self) -> Self {
        TrustedProxies {
            nets: self.nets.clone(),
            header: self.header,
            warned: Mutex::default(),
        }
    }
}

impl PartialEq for TrustedProxies {
    fn eq(&self, other: &Self) -> bool {
        self.nets == other.nets && self.header == other.header
    }
}

/// A forwarded header that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed(pub String);

impl TrustedProxies {
    /// Proxies from their networks in text (`127.0.0.1/32`, `::1`, `10.0.0.0/8`), or which
    /// entry is not one.
    pub fn parse(entries: &[String], header: ForwardedHeader) -> Result<Self, String> {
        let nets = entries
            .iter()
            .map(|e| {
                let e = e.trim();
                e.parse::<IpNet>()
                    .or_else(|_| e.parse::<IpAddr>().map(IpNet::from))
                    .map(|n| n.trunc())
                    .map_err(|_| {
                        format!(
                            "trusted_proxies: \"{e}\" is not an address or a network (e.g. 127.0.0.1/32)"
                        )
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(TrustedProxies {
            nets,
            header,
            warned: Mutex::default(),
        })
    }

    /// No proxy is trusted (the default): the peer is always the client.
    pub fn none() -> Self {
        TrustedProxies::default()
    }

    /// Whether `ip` is one of the trusted proxies.
    pub fn trusts(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.nets.iter().any(|n| n.contains(&ip))
    }

    /// Whether any proxy is trusted.
    pub fn is_empty(&self) -> bool {
        self.nets.is_empty()
    }

    /// The client of a request that came from `peer` with `headers`. From a trusted proxy
    /// with a malformed header, the proxy itself (and one warning per proxy in the log).
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = canonical(peer);
        if !self.trusts(peer) {
            return peer;
        }
        match client_behind(peer, headers, self.header, |ip| self.trusts(ip)) {
            Ok(ip) => ip,
            Err(Malformed(why)) => {
                let first = self
                    .warned
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(peer);
                if first {
                    tracing::warn!(
                        proxy = %peer,
                        header = self.header.name(),
                        "the trusted proxy sent a forwarded header that cannot be read ({why}); \
                         its requests are counted as the proxy's own until it sends one that can"
                    );
                }
                peer
            }
        }
    }
}

/// IPv4 mapped into IPv6 as the IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

/// The rightmost hop of `header` that `trusted` does not trust; when every hop is trusted,
/// the leftmost; without the header, the peer itself (a request the proxy made on its own).
pub fn client_behind(
    peer: IpAddr,
    headers: &HeaderMap,
    header: ForwardedHeader,
    trusted: impl Fn(IpAddr) -> bool,
) -> Result<IpAddr, Malformed> {
    let mut hops = Vec::new();
    for value in headers.get_all(header.name()) {
        let text = value.to_str().map_err(|_| Malformed("not ASCII".into()))?;
        match header {
            ForwardedHeader::XForwardedFor => hops.extend(parse_x_forwarded_for(text)?),
            ForwardedHeader::Forwarded => hops.extend(parse_forwarded(text)?),
        }
    }
    let Some(first) = hops.first().copied() else {
        return Ok(peer);
    };
    Ok(hops
        .into_iter()
        .rev()
        .map(canonical)
        .find(|ip| !trusted(*ip))
        .unwrap_or(canonical(first)))
}

/// `X-Forwarded-For: 203.0.113.7, 2001:db8::1` (addresses only, as proxies write them).
fn parse_x_forwarded_for(text: &str) -> Result<Vec<IpAddr>, Malformed> {
    text.split(',')
        .map(str::trim)
        .map(|hop| {
            hop.parse::<IpAddr>()
                .map_err(|_| Malformed(format!("\"{}\" is not an address", shorten(hop))))
        })
        .collect()
}

/// RFC 7239: `Forwarded: for=192.0.2.60;proto=http;by=203.0.113.43, for="[2001:db8::1]:4711"`.
/// An element without `for`, or with an obfuscated or `unknown` node, names no client.
fn parse_forwarded(text: &str) -> Result<Vec<IpAddr>, Malformed> {
    let mut hops = Vec::new();
    for element in text.split(',') {
        let node = element
            .split(';')
            .filter_map(|pair| pair.split_once('='))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case("for"))
            .map(|(_, v)| v.trim().trim_matches('"'))
            .ok_or_else(|| Malformed("an element without for=".into()))?;
        let address = if let Some(rest) = node.strip_prefix('[') {
            // "[2001:db8::1]" or "[2001:db8::1]:4711"
            rest.split_once(']').map(|(a, _)| a)
        } else {
            // "192.0.2.60" or "192.0.2.60:4711"
            Some(node.split(':').next().unwrap_or(node))
        };
        let ip = address
            .and_then(|a| a.parse::<IpAddr>().ok())
            .ok_or_else(|| Malformed(format!("for=\"{}\" names no address", shorten(node))))?;
        hops.push(ip);
    }
    Ok(hops)
}

fn shorten(s: &str) -> String {
    s.chars().take(60).collect()
}

/// The client's address, as every per-address limit counts it: set on each request by
/// [`identify`] from the peer and, behind a trusted proxy, its forwarded header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

/// Records who the client is ([`ClientIp`]) before anything else looks at the request.
pub async fn identify(
    axum::extract::State(state): axum::extract::State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
    let client = state.trusted_proxies().client(peer, req.headers());
    req.extensions_mut().insert(ClientIp(client));
    next.run(req).await
}

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<ClientIp>()
            .copied()
            .or_else(|| {
                parts
                    .extensions
                    .get::<ConnectInfo<std::net::SocketAddr>>()
                    .map(|c| ClientIp(canonical(c.0.ip())))
            })
            .unwrap_or(ClientIp(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn headers(name: &str, values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(
                axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    fn loopback_proxy() -> TrustedProxies {
        TrustedProxies::parse(
            &["127.0.0.1/32".into(), "::1".into(), "10.0.0.0/8".into()],
            ForwardedHeader::XForwardedFor,
        )
        .unwrap()
    }

    #[test]
    fn the_rightmost_untrusted_hop_is_the_client() {
        let p = loopback_proxy();
        let proxy = ip("127.0.0.1");
        // nginx appends the address it saw; whatever the client wrote stays to the left.
        let h = headers("x-forwarded-for", &["6.6.6.6, 198.51.100.7"]);
        assert_eq!(p.client(proxy, &h), ip("198.51.100.7"));
        // Through two proxies of the region's: the first untrusted one from the right.
        let h = headers("x-forwarded-for", &["198.51.100.7, 10.1.2.3"]);
        assert_eq!(p.client(proxy, &h), ip("198.51.100.7"));
        // Several header lines are one list, in order.
        let h = headers("x-forwarded-for", &["6.6.6.6", "198.51.100.8"]);
        assert_eq!(p.client(proxy, &h), ip("198.51.100.8"));
        // IPv6 and IPv4-mapped addresses.
        let h = headers("x-forwarded-for", &["2001:db8::5"]);
        assert_eq!(p.client(ip("::1"), &h), ip("2001:db8::5"));
        let h = headers("x-forwarded-for", &["::ffff:192.0.2.9"]);
        assert_eq!(p.client(ip("::ffff:127.0.0.1"), &h), ip("192.0.2.9"));
        // Every hop trusted: the leftmost. No header: the proxy itself.
        let h = headers("x-forwarded-for", &["10.0.0.5, 127.0.0.1"]);
        assert_eq!(p.client(proxy, &h), ip("10.0.0.5"));
        assert_eq!(p.client(proxy, &HeaderMap::new()), proxy);
    }

    #[test]
    fn from_anyone_else_the_header_is_ignored() {
        let p = loopback_proxy();
        let h = headers("x-forwarded-for", &["198.51.100.7"]);
        assert_eq!(p.client(ip("192.0.2.1"), &h), ip("192.0.2.1"));
        assert_eq!(
            TrustedProxies::none().client(ip("127.0.0.1"), &h),
            ip("127.0.0.1")
        );
        // The other header is not read when the proxy is said to write this one.
        let h = headers("forwarded", &["for=198.51.100.7"]);
        assert_eq!(p.client(ip("127.0.0.1"), &h), ip("127.0.0.1"));
    }

    #[test]
    fn a_malformed_header_counts_the_request_as_the_proxys() {
        let p = loopback_proxy();
        for bad in ["198.51.100.7, nonsense", "", "198.51.100.7:443", "unknown"] {
            let h = headers("x-forwarded-for", &[bad]);
            assert_eq!(p.client(ip("127.0.0.1"), &h), ip("127.0.0.1"), "{bad:?}");
        }
        assert!(p.warned.lock().unwrap().contains(&ip("127.0.0.1")));
    }

    #[test]
    fn rfc_7239_forwarded_is_read_when_chosen() {
        let p = TrustedProxies::parse(&["127.0.0.1".into()], ForwardedHeader::Forwarded).unwrap();
        let proxy = ip("127.0.0.1");
        let h = headers(
            "forwarded",
            &[r#"for=6.6.6.6, for=192.0.2.60;proto=https;by=203.0.113.43"#],
        );
        assert_eq!(p.client(proxy, &h), ip("192.0.2.60"));
        let h = headers("forwarded", &[r#"For="[2001:db8:cafe::17]:4711""#]);
        assert_eq!(p.client(proxy, &h), ip("2001:db8:cafe::17"));
        let h = headers("forwarded", &["for=192.0.2.43:4711;proto=http"]);
        assert_eq!(p.client(proxy, &h), ip("192.0.2.43"));
        for bad in ["for=unknown", "for=_hidden", "proto=https", "for=\"[::1\""] {
            let h = headers("forwarded", &[bad]);
            assert_eq!(p.client(proxy, &h), proxy, "{bad}");
        }
    }

    #[test]
    fn the_public_url_is_an_https_origin() {
        let u = PublicUrl::parse("https://Varn.Region.example/").unwrap();
        assert_eq!(u.origin(), "https://varn.region.example");
        let u = PublicUrl::parse("https://varn.region.example:8443").unwrap();
        assert_eq!(u.origin(), "https://varn.region.example:8443");
        for bad in [
            "http://varn.region.example",
            "varn.region.example",
            "https://varn.region.example/dashboard",
            "https://user@varn.region.example",
            "https://varn.region.example/?a=1",
        ] {
            let err = PublicUrl::parse(bad).unwrap_err();
            assert!(err.contains("public_url"), "{bad}: {err}");
        }
    }

    #[test]
    fn networks_and_single_addresses_parse_and_junk_is_named() {
        let p = TrustedProxies::parse(
            &["192.0.2.0/24".into(), " 2001:db8::1 ".into()],
            ForwardedHeader::XForwardedFor,
        )
        .unwrap();
        assert!(p.trusts(ip("192.0.2.200")) && !p.trusts(ip("192.0.3.1")));
        assert!(p.trusts(ip("2001:db8::1")) && !p.trusts(ip("2001:db8::2")));
        assert!(p.trusts(ip("::ffff:192.0.2.1")));
        let err = TrustedProxies::parse(&["proxy.example".into()], ForwardedHeader::Forwarded)
            .unwrap_err();
        assert!(err.contains("proxy.example"), "{err}");
    }
}
