//! A device as a test drives it over HTTP: its enrollment (what [`Device`] derefs to) and
//! requests with its token, so that a test says what it sends and not how.

use std::ops::Deref;

use reqwest::{Method, RequestBuilder, Response};
use serde::Serialize;
use varn_core::wire::EnrollResponse;

use super::http_client;

/// An enrolled device.
#[derive(Clone)]
pub struct Device {
    /// What enrolling answered (its id, token, region and name).
    pub enrolled: EnrollResponse,
    base: String,
    http: reqwest::Client,
}

impl Deref for Device {
    type Target = EnrollResponse;

    fn deref(&self) -> &EnrollResponse {
        &self.enrolled
    }
}

impl Device {
    /// The device `enrolled` on the server at `base`.
    pub fn new(base: &str, enrolled: EnrollResponse) -> Device {
        Device {
            enrolled,
            base: base.trim_end_matches('/').to_string(),
            http: http_client(),
        }
    }

    /// A request to `path` (from the server's root, e.g. `/v1/me`) with the device's token.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.enrolled.token)
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> Response {
        send(self.request(Method::GET, path)).await
    }

    /// `PUT path` with `body` as JSON.
    pub async fn put(&self, path: &str, body: &impl Serialize) -> Response {
        send(self.request(Method::PUT, path).json(body)).await
    }

    /// `POST path` with `body` as JSON.
    pub async fn post(&self, path: &str, body: &impl Serialize) -> Response {
        send(self.request(Method::POST, path).json(body)).await
    }

    /// `DELETE path`.
    pub async fn delete(&self, path: &str) -> Response {
        send(self.request(Method::DELETE, path)).await
    }

    /// `PATCH path` with a chunk of an upload at `offset`.
    pub async fn patch_chunk(&self, path: &str, offset: u64, chunk: Vec<u8>) -> Response {
        send(
            self.request(Method::PATCH, path)
                .header(varn_core::paths::UPLOAD_OFFSET, offset)
                .header("content-type", "application/octet-stream")
                .body(chunk),
        )
        .await
    }
}

async fn send(req: RequestBuilder) -> Response {
    req.send().await.expect("the request reached the server")
}
