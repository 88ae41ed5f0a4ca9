//! Talking to the region's server: the HTTP client for the linked servers and every call the
//! app makes. Errors are sorted into those worth retrying (network, 5xx, 408, 429) and those
//! that are not (a refused token, bad input).

pub use crate::storage::{load_link, Link, LINK_KEYS, LINK_SERVERS_KEY};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;
use serde::de::DeserializeOwned;
use serde::Serialize;
use uuid::Uuid;
use varn_core::paths;
use varn_core::wire::{
    AlarmReceipt, AlarmRequest, AttachmentMeta, CancelRequest, CheckinReceipt, CheckinRequest,
    CheckoutRequest, EnrollRequest, EnrollResponse, Instructions, MessageRequest, Problem,
    ReportReceipt, ReportRequest, TimelineEntry, UploadStatus,
};

/// How long to wait for a connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// How long a normal request may take.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(6);
/// How long one chunk of an upload may take (4 MiB on a slow mobile link).
pub const UPLOAD_TIMEOUT: Duration = Duration::from_secs(60);
/// How long the server holds a long-poll; the request may take a little longer.
pub const LONG_POLL_SECS: u64 = 25;

/// Why a call to the server failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ClientError {
    /// No answer: connection refused, reset, timed out.
    #[error("the region server could not be reached: {0}")]
    Network(String),
    /// The server answered with an error.
    #[error("the region server answered {status}: {detail}")]
    Server {
        /// HTTP status.
        status: u16,
        /// The problem's detail (or the body).
        detail: String,
        /// The problem's type, e.g. `urn:varn:problem:revoked`.
        kind: String,
        /// `Retry-After` in seconds, if sent.
        retry_after: Option<u64>,
        /// The problem's `offset` (upload offset mismatches).
        offset: Option<u64>,
        /// The problem's `current_revision` (revision conflicts).
        current_revision: Option<u32>,
    },
    /// The answer could not be read.
    #[error("the region server's answer could not be read: {0}")]
    Decode(String),
}

impl ClientError {
    /// Worth trying again later.
    pub fn is_retryable(&self) -> bool {
        match self {
            ClientError::Network(_) | ClientError::Decode(_) => true,
            ClientError::Server { status, .. } => {
                *status >= 500 || *status == 408 || *status == 429
            }
        }
    }

    /// The server does not accept this device's token.
    pub fn is_auth(&self) -> bool {
        matches!(self, ClientError::Server { status: 401, .. })
    }

    /// The region refuses this device for good: its token was revoked (by the region, or
    /// unlinked by the person elsewhere) or is not known there. Not a missing token, which a
    /// proxy in between may have stripped.
    pub fn is_refusal(&self) -> bool {
        match self {
            ClientError::Server {
                status: 401, kind, ..
            } => varn_core::wire::ProblemType::refuses_device(kind),
            _ => false,
        }
    }

    /// The failure as the sync engine sorts it.
    pub fn to_failure(&self) -> varn_core::sync::Failure {
        match self {
            ClientError::Network(_) | ClientError::Decode(_) => varn_core::sync::Failure::Network,
            ClientError::Server {
                status,
                detail,
                kind,
                retry_after,
                offset,
                current_revision,
            } => varn_core::sync::Failure::Status {
                status: *status,
                kind: kind.clone(),
                detail: detail.clone(),
                retry_after: *retry_after,
                offset: *offset,
                current_revision: *current_revision,
            },
        }
    }
}

/// Checks a server address as the person typed it. Plain HTTP is allowed only to this machine
/// (the token would otherwise travel in clear).
pub fn parse_server_url(text: &str) -> Result<Url, String> {
    let text = text.trim().trim_end_matches('/');
    let url = Url::parse(text)
        .map_err(|_| format!("\"{text}\" är ingen adress (t.ex. https://varn.region.se)"))?;
    match url.scheme() {
        "https" => {}
        "http" => {
            let loopback = match url.host() {
                Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
                Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
                Some(url::Host::Domain(d)) => d == "localhost",
                None => false,
            };
            if !loopback {
                return Err(
                    "adressen måste börja med https:// (http:// bara till den här datorn)".into(),
                );
            }
        }
        _ => return Err("adressen måste börja med https://".into()),
    }
    if url.host().is_none() {
        return Err(format!("\"{text}\" saknar värdnamn"));
    }
    Ok(url)
}

/// The addresses a person typed: one or more, separated by spaces, commas or new lines.
pub fn parse_server_urls(text: &str) -> Result<Vec<Url>, String> {
    let urls = text
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|s| !s.is_empty())
        .map(parse_server_url)
        .collect::<Result<Vec<_>, _>>()?;
    if urls.is_empty() {
        return Err("ange serverns adress (t.ex. https://varn.region.se)".into());
    }
    Ok(urls)
}

/// A client that never follows a redirect: the device token goes only to the addresses the
/// person linked, never to wherever a server (or someone in between) points.
fn http_client(timeout: Duration) -> Result<reqwest::Client, ClientError> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        // The server closes a kept-alive connection after 10 s without a request; letting it
        // go first avoids sending on one that is just being closed.
        .pool_idle_timeout(Duration::from_secs(5))
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(timeout)
        .user_agent(concat!("varn/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| ClientError::Network(e.to_string()))
}

async fn answer<T: DeserializeOwned>(
    res: Result<reqwest::Response, reqwest::Error>,
) -> Result<T, ClientError> {
    let res = res.map_err(|e| ClientError::Network(e.without_url().to_string()))?;
    let status = res.status();
    if status.is_success() {
        return res
            .json()
            .await
            .map_err(|e| ClientError::Decode(e.without_url().to_string()));
    }
    Err(error_of(res).await)
}

async fn error_of(res: reqwest::Response) -> ClientError {
    let status = res.status();
    let retry_after = res
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok());
    let body = res.text().await.unwrap_or_default();
    let problem: Option<Problem> = serde_json::from_str(&body).ok();
    ClientError::Server {
        status: status.as_u16(),
        detail: problem
            .as_ref()
            .map(|p| p.detail.clone())
            .unwrap_or_else(|| body.chars().take(200).collect()),
        retry_after,
        offset: problem.as_ref().and_then(|p| p.offset),
        current_revision: problem.as_ref().and_then(|p| p.current_revision),
        kind: problem.map(|p| p.kind).unwrap_or_default(),
    }
}

/// A device's connection to its region: one or more equivalent server instances. A request
/// that gets no answer from one instance goes to the next at once (every request the app
/// sends is idempotent: the same id, the same revision), and the instance that answered is
/// asked first next time.
#[derive(Clone)]
pub struct RegionClient {
    http: reqwest::Client,
    long: reqwest::Client,
    upload: reqwest::Client,
    bases: Arc<Vec<Url>>,
    current: Arc<AtomicUsize>,
    token: String,
}

fn join(base: &Url, path: &str) -> String {
    format!("{}{path}", base.as_str().trim_end_matches('/'))
}

impl RegionClient {
    /// A client for one server with the device token.
    pub fn new(base: Url, token: String) -> Result<Self, ClientError> {
        Self::with_servers(vec![base], token)
    }

    /// A client for the region's instances, tried in this order.
    pub fn with_servers(bases: Vec<Url>, token: String) -> Result<Self, ClientError> {
        if bases.is_empty() {
            return Err(ClientError::Network("no server address".into()));
        }
        Ok(RegionClient {
            http: http_client(REQUEST_TIMEOUT)?,
            long: http_client(Duration::from_secs(LONG_POLL_SECS + 10))?,
            upload: http_client(UPLOAD_TIMEOUT)?,
            bases: Arc::new(bases),
            current: Arc::new(AtomicUsize::new(0)),
            token,
        })
    }

    /// The instance asked first now.
    pub fn current_server(&self) -> &Url {
        &self.bases[self.current.load(Ordering::Relaxed) % self.bases.len()]
    }

    /// Sends a request to the instance that answered last; with no answer (refused, reset,
    /// timed out) or "unavailable", to the next one at once, round the list once.
    async fn exchange(
        &self,
        client: &reqwest::Client,
        method: reqwest::Method,
        path: &str,
        build: impl Fn(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, reqwest::Error> {
        let n = self.bases.len();
        let first = self.current.load(Ordering::Relaxed) % n;
        let mut i = 0;
        loop {
            let idx = (first + i) % n;
            let req = build(
                client
                    .request(method.clone(), join(&self.bases[idx], path))
                    .bearer_auth(&self.token),
            );
            let res = req.send().await;
            let next = i + 1 < n
                && match &res {
                    Err(_) => true,
                    Ok(r) => r.status() == reqwest::StatusCode::SERVICE_UNAVAILABLE,
                };
            if !next {
                if res.is_ok() && idx != first {
                    tracing::warn!(server = %self.bases[idx], "failed over to another instance");
                    self.current.store(idx, Ordering::Relaxed);
                }
                return res;
            }
            tracing::info!(server = %self.bases[idx], "no answer; trying the next instance");
            i += 1;
        }
    }

    /// Exchanges an enrollment code for a device token.
    pub async fn enroll(base: &Url, code: &str) -> Result<EnrollResponse, ClientError> {
        let http = http_client(REQUEST_TIMEOUT)?;
        answer(
            http.post(join(base, paths::ENROLL))
                .json(&EnrollRequest {
                    code: code.to_string(),
                })
                .send()
                .await,
        )
        .await
    }

    async fn put<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, ClientError> {
        answer(
            self.exchange(&self.http, reqwest::Method::PUT, path, |r| r.json(body))
                .await,
        )
        .await
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        answer(
            self.exchange(&self.http, reqwest::Method::GET, path, |r| r)
                .await,
        )
        .await
    }

    async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, ClientError> {
        answer(
            self.exchange(&self.http, reqwest::Method::POST, path, |r| r.json(body))
                .await,
        )
        .await
    }

    /// Raises (or re-sends) an alarm.
    pub async fn put_alarm(
        &self,
        id: Uuid,
        req: &AlarmRequest,
    ) -> Result<AlarmReceipt, ClientError> {
        self.put(&paths::alarm(id), req).await
    }

    /// Cancels an alarm.
    pub async fn cancel_alarm(
        &self,
        id: Uuid,
        req: &CancelRequest,
    ) -> Result<AlarmReceipt, ClientError> {
        self.post(&paths::alarm_cancel(id), req).await
    }

    /// Sends what the person wrote during the alarm (idempotent per message id).
    pub async fn put_message(
        &self,
        alarm: Uuid,
        id: Uuid,
        req: &MessageRequest,
    ) -> Result<AlarmReceipt, ClientError> {
        self.put(&paths::alarm_message(alarm, id), req).await
    }

    /// Tells the region what responders should know.
    pub async fn put_instructions(&self, req: &Instructions) -> Result<Instructions, ClientError> {
        self.put(paths::INSTRUCTIONS, req).await
    }

    /// Waits (long-poll) for the alarm to change beyond `after_version`.
    pub async fn wait_alarm(
        &self,
        id: Uuid,
        after_version: i64,
    ) -> Result<AlarmReceipt, ClientError> {
        let path = paths::alarm_wait(id, after_version, LONG_POLL_SECS);
        answer(
            self.exchange(&self.long, reqwest::Method::GET, &path, |r| r)
                .await,
        )
        .await
    }

    /// Sends one revision of a report (idempotent per revision).
    pub async fn put_report(
        &self,
        id: Uuid,
        req: &ReportRequest,
    ) -> Result<ReportReceipt, ClientError> {
        self.put(&paths::report(id), req).await
    }

    /// What the region holds of a report: its newest revision and its follow-up.
    pub async fn report_receipt(&self, id: Uuid) -> Result<ReportReceipt, ClientError> {
        self.get(&paths::report(id)).await
    }

    /// Announces an attachment (idempotent); the answer says how much the server has.
    pub async fn put_attachment(
        &self,
        report: Uuid,
        id: Uuid,
        meta: &AttachmentMeta,
    ) -> Result<UploadStatus, ClientError> {
        self.put(&paths::report_attachment(report, id), meta).await
    }

    /// Sends a chunk of an attachment starting at `offset`.
    pub async fn patch_chunk(
        &self,
        id: Uuid,
        offset: u64,
        bytes: Vec<u8>,
    ) -> Result<UploadStatus, ClientError> {
        // Shared, not copied, when a chunk goes to a second instance.
        let bytes = bytes::Bytes::from(bytes);
        answer(
            self.exchange(
                &self.upload,
                reqwest::Method::PATCH,
                &paths::upload(id),
                |r| {
                    r.header(paths::UPLOAD_OFFSET, offset.to_string())
                        .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
                        .body(bytes.clone())
                },
            )
            .await,
        )
        .await
    }

    /// The region profile, unless it still has `etag` (then `None`: 304 Not Modified).
    pub async fn profile(
        &self,
        etag: Option<&str>,
    ) -> Result<Option<(String, Option<String>)>, ClientError> {
        let res = self
            .exchange(
                &self.http,
                reqwest::Method::GET,
                paths::PROFILE,
                |r| match etag {
                    Some(tag) => r.header(reqwest::header::IF_NONE_MATCH, tag),
                    None => r,
                },
            )
            .await
            .map_err(|e| ClientError::Network(e.without_url().to_string()))?;
        if res.status() == reqwest::StatusCode::NOT_MODIFIED {
            return Ok(None);
        }
        if !res.status().is_success() {
            return Err(error_of(res).await);
        }
        let tag = res
            .headers()
            .get(reqwest::header::ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = res
            .text()
            .await
            .map_err(|e| ClientError::Decode(e.without_url().to_string()))?;
        Ok(Some((body, tag)))
    }

    /// Sends a check-in's current revision.
    pub async fn put_checkin(
        &self,
        id: Uuid,
        req: &CheckinRequest,
    ) -> Result<CheckinReceipt, ClientError> {
        self.put(&paths::checkin(id), req).await
    }

    /// What the region holds for a check-in.
    pub async fn get_checkin(&self, id: Uuid) -> Result<CheckinReceipt, ClientError> {
        self.get(&paths::checkin(id)).await
    }

    /// Checks out.
    pub async fn checkout(
        &self,
        id: Uuid,
        req: &CheckoutRequest,
    ) -> Result<CheckinReceipt, ClientError> {
        self.post(&paths::checkout(id), req).await
    }

    /// The alarm's timeline as the region holds it.
    pub async fn timeline(&self, id: Uuid) -> Result<Vec<TimelineEntry>, ClientError> {
        self.get(&paths::alarm_timeline(id)).await
    }

    /// Checks that the server answers and knows this device.
    pub async fn me(&self) -> Result<varn_core::wire::DeviceInfo, ClientError> {
        self.get(paths::ME).await
    }

    /// Tells the server that this device is unlinked: it revokes the token at once. A token
    /// the server already refuses counts as told.
    pub async fn unlink(&self) -> Result<(), ClientError> {
        let res = self
            .exchange(&self.http, reqwest::Method::DELETE, paths::ME, |r| r)
            .await
            .map_err(|e| ClientError::Network(e.without_url().to_string()))?;
        let status = res.status();
        if status.is_success() || status == reqwest::StatusCode::UNAUTHORIZED {
            return Ok(());
        }
        Err(error_of(res).await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_urls_need_https_except_to_this_machine() {
        assert!(parse_server_url("https://varn.regionsormland.se").is_ok());
        assert!(parse_server_url("  https://varn.example/ ").is_ok());
        assert!(parse_server_url("http://127.0.0.1:8080").is_ok());
        assert!(parse_server_url("http://localhost:8080").is_ok());
        assert!(parse_server_url("http://[::1]:8080").is_ok());
        assert!(parse_server_url("http://varn.example")
            .unwrap_err()
            .contains("https"));
        assert!(parse_server_url("ftp://x").is_err());
        assert!(parse_server_url("varn.example").is_err());
        assert!(parse_server_url("").is_err());
    }

    #[test]
    fn several_addresses_are_taken_in_order_and_each_is_checked() {
        let urls = parse_server_urls(" https://a.example, https://b.example\nhttp://127.0.0.1:9 ")
            .unwrap();
        let hosts: Vec<String> = urls
            .iter()
            .map(|u| u.host_str().unwrap().to_string())
            .collect();
        assert_eq!(hosts, ["a.example", "b.example", "127.0.0.1"]);
        assert!(parse_server_urls("https://a.example http://b.example")
            .unwrap_err()
            .contains("https"));
        assert!(parse_server_urls("  ").is_err());
    }

    /// A server that answers every request with a redirect to `to`, and counts requests.
    fn redirecting_server(to: String) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
        use std::io::{BufRead, BufReader, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = hits.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                counted.fetch_add(1, Ordering::SeqCst);
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                    line.clear();
                }
                let _ = write!(
                    stream,
                    "HTTP/1.1 307 Temporary Redirect\r\nLocation: {to}/v1/me\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                );
            }
        });
        (url, hits)
    }

    /// A linked server that redirects elsewhere never gets the token sent on: the client
    /// does not follow, and the other address sees no request.
    #[tokio::test]
    async fn a_redirect_never_carries_the_token_elsewhere() {
        let (elsewhere, elsewhere_hits) = redirecting_server("http://127.0.0.1:9".into());
        let (linked, linked_hits) = redirecting_server(elsewhere.clone());
        let client =
            RegionClient::new(Url::parse(&linked).unwrap(), "secret-token".into()).unwrap();
        let err = client.me().await.unwrap_err();
        assert!(
            matches!(err, ClientError::Server { status: 307, .. }),
            "{err:?}"
        );
        assert!(!err.is_retryable());
        assert_eq!(linked_hits.load(Ordering::SeqCst), 1);
        assert_eq!(
            elsewhere_hits.load(Ordering::SeqCst),
            0,
            "the redirect was not followed"
        );
    }

    #[test]
    fn errors_are_sorted_into_retryable_and_permanent() {
        let s = |status| ClientError::Server {
            status,
            detail: String::new(),
            kind: String::new(),
            retry_after: None,
            offset: None,
            current_revision: None,
        };
        assert!(ClientError::Network("reset".into()).is_retryable());
        assert!(
            s(503).is_retryable()
                && s(500).is_retryable()
                && s(429).is_retryable()
                && s(408).is_retryable()
        );
        assert!(!s(401).is_retryable() && s(401).is_auth());
        assert!(!s(403).is_retryable() && !s(422).is_retryable() && !s(404).is_retryable());
    }
}
