//! Talking to the region's server: enrollment (the device token goes to the keychain, the rest
//! of the link to the database) and the alarm calls. Errors are sorted into those worth
//! retrying (network, 5xx, 408, 429) and those that are not (a refused token, bad input).

use std::time::Duration;

use reqwest::Url;
use serde::de::DeserializeOwned;
use serde::Serialize;
use uuid::Uuid;
use varn_core::wire::{
    AlarmReceipt, AlarmRequest, AttachmentMeta, CancelRequest, CheckinReceipt, CheckinRequest,
    CheckoutRequest, EnrollRequest, EnrollResponse, Problem, ReportReceipt, ReportRequest,
    TimelineEntry, UploadStatus,
};

use crate::secrets::SecretStore;
use crate::storage::{Db, StorageError};

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

fn http_client(timeout: Duration) -> Result<reqwest::Client, ClientError> {
    reqwest::Client::builder()
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

/// A device's connection to its region server.
#[derive(Clone)]
pub struct RegionClient {
    http: reqwest::Client,
    long: reqwest::Client,
    upload: reqwest::Client,
    base: Url,
    token: String,
}

impl RegionClient {
    /// A client for `base` with the device token.
    pub fn new(base: Url, token: String) -> Result<Self, ClientError> {
        Ok(RegionClient {
            http: http_client(REQUEST_TIMEOUT)?,
            long: http_client(Duration::from_secs(LONG_POLL_SECS + 10))?,
            upload: http_client(UPLOAD_TIMEOUT)?,
            base,
            token,
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base.as_str().trim_end_matches('/'))
    }

    /// Exchanges an enrollment code for a device token.
    pub async fn enroll(base: &Url, code: &str) -> Result<EnrollResponse, ClientError> {
        let http = http_client(REQUEST_TIMEOUT)?;
        let url = format!("{}/v1/enroll", base.as_str().trim_end_matches('/'));
        answer(
            http.post(url)
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
            self.http
                .put(self.url(path))
                .bearer_auth(&self.token)
                .json(body)
                .send()
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
        self.put(&format!("/v1/alarms/{id}"), req).await
    }

    /// Cancels an alarm.
    pub async fn cancel_alarm(
        &self,
        id: Uuid,
        req: &CancelRequest,
    ) -> Result<AlarmReceipt, ClientError> {
        answer(
            self.http
                .post(self.url(&format!("/v1/alarms/{id}/cancel")))
                .bearer_auth(&self.token)
                .json(req)
                .send()
                .await,
        )
        .await
    }

    /// Waits (long-poll) for the alarm to change beyond `after_version`.
    pub async fn wait_alarm(
        &self,
        id: Uuid,
        after_version: i64,
    ) -> Result<AlarmReceipt, ClientError> {
        let url = self.url(&format!(
            "/v1/alarms/{id}?after_version={after_version}&wait={LONG_POLL_SECS}"
        ));
        answer(self.long.get(url).bearer_auth(&self.token).send().await).await
    }

    /// Sends one revision of a report (idempotent per revision).
    pub async fn put_report(
        &self,
        id: Uuid,
        req: &ReportRequest,
    ) -> Result<ReportReceipt, ClientError> {
        self.put(&format!("/v1/reports/{id}"), req).await
    }

    /// Announces an attachment (idempotent); the answer says how much the server has.
    pub async fn put_attachment(
        &self,
        report: Uuid,
        id: Uuid,
        meta: &AttachmentMeta,
    ) -> Result<UploadStatus, ClientError> {
        self.put(&format!("/v1/reports/{report}/attachments/{id}"), meta)
            .await
    }

    /// Sends a chunk of an attachment starting at `offset`.
    pub async fn patch_chunk(
        &self,
        id: Uuid,
        offset: u64,
        bytes: Vec<u8>,
    ) -> Result<UploadStatus, ClientError> {
        answer(
            self.upload
                .patch(self.url(&format!("/v1/attachments/{id}")))
                .bearer_auth(&self.token)
                .header("upload-offset", offset.to_string())
                .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
                .body(bytes)
                .send()
                .await,
        )
        .await
    }

    /// The region profile, unless it still has `etag` (then `None`: 304 Not Modified).
    pub async fn profile(
        &self,
        etag: Option<&str>,
    ) -> Result<Option<(String, Option<String>)>, ClientError> {
        let mut req = self
            .http
            .get(self.url("/v1/profile"))
            .bearer_auth(&self.token);
        if let Some(tag) = etag {
            req = req.header(reqwest::header::IF_NONE_MATCH, tag);
        }
        let res = req
            .send()
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
        self.put(&format!("/v1/checkins/{id}"), req).await
    }

    /// What the region holds for a check-in.
    pub async fn get_checkin(&self, id: Uuid) -> Result<CheckinReceipt, ClientError> {
        answer(
            self.http
                .get(self.url(&format!("/v1/checkins/{id}")))
                .bearer_auth(&self.token)
                .send()
                .await,
        )
        .await
    }

    /// Checks out.
    pub async fn checkout(
        &self,
        id: Uuid,
        req: &CheckoutRequest,
    ) -> Result<CheckinReceipt, ClientError> {
        answer(
            self.http
                .post(self.url(&format!("/v1/checkins/{id}/checkout")))
                .bearer_auth(&self.token)
                .json(req)
                .send()
                .await,
        )
        .await
    }

    /// The alarm's timeline as the region holds it.
    pub async fn timeline(&self, id: Uuid) -> Result<Vec<TimelineEntry>, ClientError> {
        answer(
            self.http
                .get(self.url(&format!("/v1/alarms/{id}/timeline")))
                .bearer_auth(&self.token)
                .send()
                .await,
        )
        .await
    }

    /// Checks that the server answers and knows this device.
    pub async fn me(&self) -> Result<varn_core::wire::DeviceInfo, ClientError> {
        answer(
            self.http
                .get(self.url("/v1/me"))
                .bearer_auth(&self.token)
                .send()
                .await,
        )
        .await
    }
}

/// A client for the linked server with the token from the keychain, or why there is none.
pub fn client_for(
    db: &Db,
    secrets: &dyn SecretStore,
    token_key: &str,
) -> Result<RegionClient, varn_core::alarm::Blocked> {
    use varn_core::alarm::Blocked;
    let link = load_link(db).ok().flatten().ok_or(Blocked::NotEnrolled)?;
    let token = match secrets.get(token_key) {
        Ok(Some(t)) => t,
        Ok(None) => return Err(Blocked::NotEnrolled),
        Err(e) => {
            tracing::warn!("keychain: {e}");
            return Err(Blocked::KeychainUnavailable);
        }
    };
    let base = parse_server_url(&link.server_url).map_err(|_| Blocked::NotEnrolled)?;
    RegionClient::new(base, token).map_err(|_| Blocked::NotEnrolled)
}

/// The app's link to its region: stored in the database (address, who) and the keychain
/// (token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Link {
    /// The server's address.
    pub server_url: String,
    /// The device's id on the server.
    pub device_id: Uuid,
    /// The person's name as enrolled.
    pub name: String,
    /// The region.
    pub region_id: String,
}

/// Why enrollment failed, for the person.
#[derive(Debug, Clone, thiserror::Error)]
pub enum LinkError {
    /// The address is not usable.
    #[error("{0}")]
    BadUrl(String),
    /// The server said no or could not be reached.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The keychain failed; nothing was stored.
    #[error("{0}")]
    Keychain(String),
    /// The database failed.
    #[error("{0}")]
    Storage(String),
}

impl From<StorageError> for LinkError {
    fn from(e: StorageError) -> Self {
        LinkError::Storage(e.to_string())
    }
}

const KEYS: [&str; 4] = [
    "link.server_url",
    "link.device_id",
    "link.name",
    "link.region_id",
];

/// The stored link, if the app is enrolled.
pub fn load_link(db: &Db) -> Result<Option<Link>, StorageError> {
    let mut values = Vec::new();
    for key in KEYS {
        match db.setting(key)? {
            Some(v) => values.push(v),
            None => return Ok(None),
        }
    }
    let Ok(device_id) = Uuid::parse_str(&values[1]) else {
        return Ok(None);
    };
    Ok(Some(Link {
        server_url: values[0].clone(),
        device_id,
        name: values[2].clone(),
        region_id: values[3].clone(),
    }))
}

/// Enrolls: exchanges the code, stores the token in the keychain and the link in the database.
/// If the keychain fails, nothing is stored and the person is told so.
pub async fn enroll(
    db: &Db,
    secrets: &dyn SecretStore,
    token_key: &str,
    server_url: &str,
    code: &str,
) -> Result<Link, LinkError> {
    let base = parse_server_url(server_url).map_err(LinkError::BadUrl)?;
    let e = RegionClient::enroll(&base, code).await?;
    secrets
        .set(token_key, &e.token)
        .map_err(|err| LinkError::Keychain(err.0))?;
    let link = Link {
        server_url: base.as_str().trim_end_matches('/').to_string(),
        device_id: e.device_id,
        name: e.name,
        region_id: e.region_id,
    };
    db.set_settings(&[
        (KEYS[0], link.server_url.as_str()),
        (KEYS[1], &link.device_id.to_string()),
        (KEYS[2], link.name.as_str()),
        (KEYS[3], link.region_id.as_str()),
    ])?;
    Ok(link)
}

/// Forgets the link: the token leaves the keychain, the link the database.
pub fn unlink(db: &Db, secrets: &dyn SecretStore, token_key: &str) -> Result<(), LinkError> {
    secrets
        .delete(token_key)
        .map_err(|e| LinkError::Keychain(e.0))?;
    db.delete_settings(&KEYS)?;
    Ok(())
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
