//! The one HTTP client the server speaks OpenID Connect with: no redirects followed (a
//! provider's answer cannot send the server elsewhere, SSRF), a time limit on every call
//! and on connecting, and an answer read only up to [`MAX_ANSWER_BYTES`].

use openidconnect::{HttpRequest, HttpResponse};
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// The most of a provider's answer that is read (metadata, keys, tokens are a few kB).
pub const MAX_ANSWER_BYTES: usize = 256 * 1024;

/// Why a call to the provider gave no answer to use.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// It could not be reached, or did not answer within the time limit.
    #[error("the provider could not be reached: {0}")]
    Unreachable(String),
    /// It answered with more than [`MAX_ANSWER_BYTES`].
    #[error("the provider's answer is larger than {MAX_ANSWER_BYTES} bytes")]
    TooLarge,
}

/// The client: no redirects, `timeout` for each whole call.
#[derive(Clone)]
pub struct Http {
    client: openidconnect::reqwest::Client,
}

impl Http {
    /// A client whose every call ends within `timeout`.
    pub fn new(timeout: Duration) -> Result<Http, String> {
        let client = openidconnect::reqwest::Client::builder()
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .timeout(timeout)
            .connect_timeout(timeout)
            .build()
            .map_err(|e| format!("the OpenID Connect HTTP client: {e}"))?;
        Ok(Http { client })
    }

    /// One call, its answer read up to the limit.
    pub async fn fetch(&self, request: HttpRequest) -> Result<HttpResponse, CallError> {
        let unreachable = |e: openidconnect::reqwest::Error| CallError::Unreachable(e.to_string());
        let request = openidconnect::reqwest::Request::try_from(request).map_err(unreachable)?;
        let mut response = self.client.execute(request).await.map_err(unreachable)?;
        let mut answer = openidconnect::http::Response::builder().status(response.status());
        for (name, value) in response.headers() {
            answer = answer.header(name, value);
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(unreachable)? {
            if body.len() + chunk.len() > MAX_ANSWER_BYTES {
                return Err(CallError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        answer
            .body(body)
            .map_err(|e| CallError::Unreachable(e.to_string()))
    }
}

impl<'c> openidconnect::AsyncHttpClient<'c> for Http {
    type Error = CallError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, CallError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(self.fetch(request))
    }
}
