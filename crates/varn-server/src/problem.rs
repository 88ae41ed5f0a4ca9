//! Every error answer is `application/problem+json` (RFC 9457) saying what was wrong, and
//! extractors that turn axum's rejections (bad JSON, bad path) into the same.

use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{header, request::Parts, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use varn_core::wire::{Problem, WireError};

use crate::store::StoreError;
use varn_core::wire::ProblemType;

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    kind: ProblemType,
    title: &'static str,
    detail: String,
    offset: Option<u64>,
    current_revision: Option<u32>,
    retry_after: Option<u64>,
}

impl ApiError {
    fn new(
        status: StatusCode,
        kind: ProblemType,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        ApiError {
            status,
            kind,
            title,
            detail: detail.into(),
            offset: None,
            current_revision: None,
            retry_after: None,
        }
    }

    /// 400: the request cannot be read.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            ProblemType::BadRequest,
            "Bad request",
            detail,
        )
    }
    /// 401: no or bad credentials.
    pub fn unauthorized(kind: ProblemType, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, kind, "Not authorised", detail)
    }
    /// 403: authenticated, but not allowed.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            ProblemType::Forbidden,
            "Forbidden",
            detail,
        )
    }
    /// 404.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            ProblemType::NotFound,
            "Not found",
            detail,
        )
    }
    /// 409.
    pub fn conflict(kind: ProblemType, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, kind, "Conflict", detail)
    }
    /// 422: well-formed but not acceptable.
    pub fn unprocessable(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ProblemType::Invalid,
            "Invalid content",
            detail,
        )
    }
    /// 429 with `Retry-After`.
    pub fn too_many(retry_after: u64, detail: impl Into<String>) -> Self {
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            ProblemType::RateLimited,
            "Too many attempts",
            detail,
        );
        e.retry_after = Some(retry_after);
        e
    }
    /// 503: storage trouble; the client should retry.
    pub fn unavailable(detail: impl Into<String>) -> Self {
        let mut e = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ProblemType::Unavailable,
            "Temporarily unavailable",
            detail,
        );
        e.retry_after = Some(1);
        e
    }
    /// 503 with `Retry-After`: the server is at a bound it keeps on purpose.
    pub fn busy(retry_after: u64, detail: impl Into<String>) -> Self {
        let mut e = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ProblemType::Busy,
            "Busy",
            detail,
        );
        e.retry_after = Some(retry_after.max(1));
        e
    }
    /// 408: the request did not arrive in time.
    pub fn timeout(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::REQUEST_TIMEOUT,
            ProblemType::Timeout,
            "Request timeout",
            detail,
        )
    }
    /// 405: the path exists, the method does not (axum adds the `Allow` header).
    pub fn method_not_allowed(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            ProblemType::MethodNotAllowed,
            "Method not allowed",
            detail,
        )
    }
    /// 413.
    pub fn too_large(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ProblemType::TooLarge,
            "Too large",
            detail,
        )
    }
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Problem {
            kind: self.kind.urn(),
            title: self.title.to_string(),
            status: self.status.as_u16(),
            detail: self.detail,
            offset: self.offset,
            current_revision: self.current_revision,
        };
        let json = serde_json::to_vec(&body).unwrap_or_default();
        let mut res = (self.status, json).into_response();
        let h = res.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(s) = self.retry_after {
            if let Ok(v) = HeaderValue::from_str(&s.to_string()) {
                h.insert(header::RETRY_AFTER, v);
            }
        }
        if self.status == StatusCode::UNAUTHORIZED {
            h.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        res
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Backend(detail) => {
                tracing::error!(%detail, "storage failure");
                ApiError::unavailable(
                    "storage is temporarily unavailable; send the same request again (a retry with the same id is never stored twice)",
                )
            }
            StoreError::NotFound => ApiError::not_found("no such item"),
            StoreError::OtherDevice => ApiError::forbidden("this id belongs to another device"),
            StoreError::RevisionConflict { revision, current } => {
                let mut e = ApiError::conflict(
                    ProblemType::RevisionConflict,
                    format!("revision {revision} was already received with different content; send a new revision"),
                );
                e.current_revision = Some(current);
                e
            }
            StoreError::MetaConflict => ApiError::conflict(
                ProblemType::AttachmentConflict,
                "this attachment id was announced with a different name, type, size or checksum",
            ),
            StoreError::OffsetMismatch { expected } => {
                let mut e = ApiError::conflict(
                    ProblemType::OffsetMismatch,
                    format!("the upload is at offset {expected}; send the chunk that starts there"),
                );
                e.offset = Some(expected);
                e
            }
            StoreError::TooLarge { size } => ApiError::too_large(format!(
                "the chunk goes past the announced size of {size} bytes"
            )),
            e @ StoreError::ChecksumMismatch { .. } => {
                let mut err = ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    ProblemType::ChecksumMismatch,
                    "Checksum mismatch",
                    e.to_string(),
                );
                err.offset = Some(0);
                err
            }
            StoreError::CodeUnknown | StoreError::CodeExpired | StoreError::CodeUsed => {
                ApiError::unauthorized(ProblemType::BadCode, e.to_string())
            }
            StoreError::Taken(what) => {
                ApiError::conflict(ProblemType::Taken, format!("{what} is already taken"))
            }
            StoreError::Invalid(why) => ApiError::unprocessable(why),
            StoreError::Conflict(why) => ApiError::conflict(ProblemType::Conflict, why),
        }
    }
}

impl From<WireError> for ApiError {
    fn from(e: WireError) -> Self {
        ApiError::unprocessable(e.to_string())
    }
}

/// `Json<T>` whose rejections are problem+json.
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(rej) => Err(json_rejection(rej)),
        }
    }
}

fn json_rejection(rej: JsonRejection) -> ApiError {
    let detail = rej.body_text();
    match rej {
        JsonRejection::JsonDataError(_) => ApiError::unprocessable(detail),
        JsonRejection::JsonSyntaxError(_) => ApiError::bad_request(detail),
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ProblemType::UnsupportedMediaType,
            "Unsupported media type",
            "send the body as JSON with Content-Type: application/json",
        ),
        other => {
            let status = other.status();
            if status == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    status,
                    ProblemType::TooLarge,
                    "Too large",
                    "the request body is too large",
                )
            } else {
                ApiError::bad_request(other.body_text())
            }
        }
    }
}

/// `Path<T>` whose rejections are problem+json.
pub struct ApiPath<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(ApiPath(v)),
            Err(PathRejection::FailedToDeserializePathParams(e)) => Err(ApiError::bad_request(
                format!("the path is not valid: {} (ids are UUIDs)", e.body_text()),
            )),
            Err(other) => Err(ApiError::bad_request(other.body_text())),
        }
    }
}

/// `Query<T>` whose rejections are problem+json.
pub struct ApiQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(ApiQuery(v)),
            Err(e) => Err(ApiError::bad_request(format!(
                "the query is not valid: {}",
                e.body_text()
            ))),
        }
    }
}
