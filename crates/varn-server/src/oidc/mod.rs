//! Officers sign in with their region's own identity provider (OpenID Connect: Entra ID,
//! Inera's IdP, …): the authorization code flow with PKCE, `state` and `nonce`, the ID token's
//! signature checked against the provider's keys (fetched again when it signs with a key not
//! seen before), its `iss`, `aud`, `exp`, `iat` and `nonce`, the region's required level
//! (`acr`/`amr`), and the role its groups give. The session is renewed through the provider
//! (its refresh token), so a person the provider no longer signs in, or no longer puts in a
//! group, loses access at the next renewal.
//!
//! Every call to the provider goes through [`http::Http`]: no redirects, a time limit, a
//! size limit. Nothing here knows the web server; `dashboard/provider.rs` uses it.

pub mod claims;
mod config;
pub mod http;

pub use config::{LocalPasswords, OidcEntry, RegionOidc, RoleGroups};

use crate::store::OfficerRole;
use chrono::{DateTime, Utc};
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreErrorResponseType, CoreGenderClaim, CoreJsonWebKey,
    CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm, CoreProviderMetadata,
    CoreResponseType, CoreRevocableToken, CoreRevocationErrorResponse,
    CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AdditionalClaims, AuthenticationContextClass, AuthenticationFlow, AuthorizationCode,
    ClaimsVerificationError, CsrfToken, EmptyExtraTokenFields, EndpointMaybeSet, EndpointNotSet,
    EndpointSet, IdTokenFields, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier,
    RedirectUrl, RefreshToken, RequestTokenError, Scope, SignatureVerificationError,
    StandardErrorResponse, StandardTokenResponse,
};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// How long a call to the provider may take, each.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a sign-in may take from the click to the provider's answer.
pub const FLOW_SECONDS: i64 = 600;
/// The provider's keys are fetched again for an unknown key at most this often.
pub const KEYS_AT_MOST_EVERY: Duration = Duration::from_secs(1);
/// A fetch of the metadata that failed is not tried again for this long: while the provider
/// is down every sign-in is told so at once, instead of each waiting its own time limit in
/// turn.
pub const FAILED_FETCH_FOR: Duration = Duration::from_secs(10);
/// The provider's metadata and keys are fetched again after this long in any case.
pub const METADATA_FOR: Duration = Duration::from_secs(24 * 3600);
/// How far the clocks may disagree on an ID token's `iat`.
const CLOCK_SKEW_SECONDS: i64 = 120;

/// The claims beside the standard ones, kept whole: the region's groups claim is read from
/// them by name.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct OtherClaims(HashMap<String, serde_json::Value>);

impl AdditionalClaims for OtherClaims {}

type IdFields = IdTokenFields<
    OtherClaims,
    EmptyExtraTokenFields,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;
type Tokens = StandardTokenResponse<IdFields, CoreTokenType>;
type Client = openidconnect::Client<
    OtherClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    Tokens,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// Why a sign-in or a renewal did not give a session. Each is logged with its reason; the
/// person is told in words that fit ([`OidcError::code`]).
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    /// The provider could not be reached, answered too slowly, or answered garbage.
    #[error("the identity provider did not answer usably: {0}")]
    Provider(String),
    /// Something did not check out: a forged, replayed, expired or wrong-audience token, an
    /// unknown key, a state or nonce that does not match, a code used before.
    #[error("the sign-in was refused: {0}")]
    Refused(String),
    /// The person is in none of the region's groups.
    #[error("the person is in none of the region's groups")]
    NoRole,
    /// The sign-in was weaker than the region requires.
    #[error("the sign-in was weaker than the region requires: {0}")]
    TooWeak(String),
    /// The provider no longer signs the person in (the renewal was refused).
    #[error("the provider no longer signs the person in: {0}")]
    Ended(String),
    /// The sign-in took too long, or its cookie is missing.
    #[error("the sign-in took too long or was started in another browser")]
    Expired,
    /// No provider is configured for the region.
    #[error("region {0} does not sign in with an identity provider")]
    NoProvider(String),
}

impl OidcError {
    /// The short code the dashboard shows its Swedish text for (`?fel=`).
    pub fn code(&self) -> &'static str {
        match self {
            OidcError::Provider(_) => "leverantor",
            OidcError::Refused(_) => "nekad",
            OidcError::NoRole => "grupp",
            OidcError::TooWeak(_) => "niva",
            OidcError::Ended(_) => "slut",
            OidcError::Expired => "tid",
            OidcError::NoProvider(_) => "region",
        }
    }
}

/// A sign-in under way, kept sealed in the browser's cookie between the click and the
/// provider's answer.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Flow {
    /// The region.
    pub region: String,
    /// The `state` sent (checked against the answer's).
    pub state: String,
    /// The `nonce` sent (checked in the ID token).
    pub nonce: String,
    /// The PKCE verifier.
    pub verifier: String,
    /// The redirect URI sent.
    pub redirect: String,
    /// When it started (Unix seconds).
    pub started: i64,
}

/// Who the provider signed in, and until when.
#[derive(Debug, Clone)]
pub struct Identity {
    /// The provider's subject.
    pub subject: String,
    /// The person's name (`name`, else `preferred_username`, else the subject).
    pub name: String,
    /// The role the groups give.
    pub role: OfficerRole,
    /// The refresh token, if the provider gave one.
    pub refresh: Option<String>,
    /// The ID token's end: the session lives no longer than this without a renewal.
    pub until: DateTime<Utc>,
}

struct Cached {
    client: Client,
    fetched: Instant,
}

/// One region's provider at run time: its configuration, and its metadata and keys once
/// fetched (lazily: the server starts while the provider is down).
pub struct Provider {
    cfg: RegionOidc,
    http: http::Http,
    cached: Mutex<Option<Cached>>,
    failed: Mutex<Option<(Instant, String)>>,
}

/// The providers of every region that has one.
#[derive(Clone, Default)]
pub struct Providers(Arc<HashMap<String, Arc<Provider>>>);

impl Providers {
    /// The providers for `regions`.
    pub fn new(regions: &[RegionOidc]) -> Result<Providers, String> {
        let http = http::Http::new(CALL_TIMEOUT)?;
        Ok(Providers(Arc::new(
            regions
                .iter()
                .map(|cfg| {
                    let p = Provider {
                        cfg: cfg.clone(),
                        http: http.clone(),
                        cached: Mutex::new(None),
                        failed: Mutex::new(None),
                    };
                    (cfg.region.clone(), Arc::new(p))
                })
                .collect(),
        )))
    }

    /// The region's provider, if it has one.
    pub fn get(&self, region: &str) -> Option<&Arc<Provider>> {
        self.0.get(region)
    }

    /// The regions with a provider, sorted.
    pub fn regions(&self) -> Vec<&RegionOidc> {
        let mut v: Vec<&RegionOidc> = self.0.values().map(|p| &p.cfg).collect();
        v.sort_by(|a, b| a.region.cmp(&b.region));
        v
    }
}

fn provider_error<E: std::error::Error>(e: E) -> OidcError {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    OidcError::Provider(text)
}

impl Provider {
    /// The configuration.
    pub fn config(&self) -> &RegionOidc {
        &self.cfg
    }

    /// The client, from metadata fetched now if there is none, it is a day old, or `again`
    /// asks (an unknown key; at most once per [`KEYS_AT_MOST_EVERY`]).
    async fn client(&self, again: bool) -> Result<Client, OidcError> {
        let mut failed = self.failed.lock().await;
        let mut cached = self.cached.lock().await;
        let stale = match cached.as_ref() {
            None => true,
            Some(c) => {
                c.fetched.elapsed() >= METADATA_FOR
                    || (again && c.fetched.elapsed() >= KEYS_AT_MOST_EVERY)
            }
        };
        if stale {
            if let Some((at, why)) = failed.as_ref() {
                if at.elapsed() < FAILED_FETCH_FOR {
                    return Err(OidcError::Provider(format!("{why} (a moment ago)")));
                }
            }
            let fetched = CoreProviderMetadata::discover_async(self.cfg.issuer.clone(), &self.http)
                .await
                .map_err(provider_error);
            let metadata = match fetched {
                Ok(m) => m,
                Err(OidcError::Provider(why)) => {
                    *failed = Some((Instant::now(), why.clone()));
                    return Err(OidcError::Provider(why));
                }
                Err(other) => return Err(other),
            };
            *failed = None;
            let client = Client::from_provider_metadata(
                metadata,
                self.cfg.client_id.clone(),
                Some(self.cfg.client_secret.clone()),
            );
            *cached = Some(Cached {
                client,
                fetched: Instant::now(),
            });
        }
        cached
            .as_ref()
            .map(|c| c.client.clone())
            .ok_or_else(|| OidcError::Provider("no metadata".into()))
    }

    /// Starts a sign-in: the address to send the browser to, and the flow to keep.
    pub async fn begin(
        &self,
        redirect: &str,
        now: DateTime<Utc>,
    ) -> Result<(url::Url, Flow), OidcError> {
        let client = self.client(false).await?.set_redirect_uri(
            RedirectUrl::new(redirect.to_string())
                .map_err(|e| OidcError::Refused(format!("redirect URI: {e}")))?,
        );
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client
            .authorize_url(
                AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge)
            .add_scope(Scope::new("profile".into()));
        for scope in &self.cfg.scopes {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        for acr in &self.cfg.acr_values {
            request = request.add_auth_context_value(AuthenticationContextClass::new(acr.clone()));
        }
        let (url, state, nonce) = request.url();
        Ok((
            url,
            Flow {
                region: self.cfg.region.clone(),
                state: state.secret().clone(),
                nonce: nonce.secret().clone(),
                verifier: verifier.secret().clone(),
                redirect: redirect.to_string(),
                started: now.timestamp(),
            },
        ))
    }

    /// Finishes a sign-in: the code exchanged (with the PKCE verifier), the ID token checked.
    /// The caller has checked `state` against the flow's.
    pub async fn finish(
        &self,
        flow: &Flow,
        code: &str,
        now: DateTime<Utc>,
    ) -> Result<Identity, OidcError> {
        if now.timestamp() - flow.started > FLOW_SECONDS || flow.region != self.cfg.region {
            return Err(OidcError::Expired);
        }
        let client = self.client(false).await?.set_redirect_uri(
            RedirectUrl::new(flow.redirect.clone())
                .map_err(|e| OidcError::Refused(format!("redirect URI: {e}")))?,
        );
        let tokens = client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .map_err(|e| OidcError::Provider(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(flow.verifier.clone()))
            .request_async(&self.http)
            .await
            .map_err(token_error)?;
        let nonce = Nonce::new(flow.nonce.clone());
        self.identity(&tokens, &nonce, None, now, None).await
    }

    /// Renews a session with its refresh token: a new ID token for the same subject, its
    /// groups and level checked again. [`OidcError::Ended`] when the provider refuses.
    pub async fn renew(
        &self,
        refresh: &str,
        subject: &str,
        now: DateTime<Utc>,
    ) -> Result<Identity, OidcError> {
        let client = self.client(false).await?;
        let tokens = client
            .exchange_refresh_token(&RefreshToken::new(refresh.to_string()))
            .map_err(|e| OidcError::Provider(e.to_string()))?
            .request_async(&self.http)
            .await
            .map_err(|e| match token_error(e) {
                OidcError::Refused(why) => OidcError::Ended(why),
                other => other,
            })?;
        let identity = self
            .identity(
                &tokens,
                &Nonce::new(String::new()),
                Some(subject),
                now,
                Some(refresh),
            )
            .await
            .map_err(|e| match e {
                OidcError::NoRole => OidcError::Ended("in none of the region's groups".into()),
                other => other,
            })?;
        Ok(identity)
    }

    /// The identity an answer's ID token proves. `nonce` is checked on a sign-in; on a
    /// renewal (`subject` given) the nonce, if any, is the first one's, and the subject must
    /// stay the same.
    async fn identity(
        &self,
        tokens: &Tokens,
        nonce: &Nonce,
        subject: Option<&str>,
        now: DateTime<Utc>,
        old_refresh: Option<&str>,
    ) -> Result<Identity, OidcError> {
        let id_token = tokens
            .extra_fields()
            .id_token()
            .ok_or_else(|| OidcError::Refused("the answer has no ID token".into()))?;
        let verify = |client: &Client| {
            let verifier =
                client
                    .id_token_verifier()
                    .set_issue_time_verifier_fn(move |iat: DateTime<Utc>| {
                        let age = (now - iat).num_seconds();
                        if age < -CLOCK_SKEW_SECONDS {
                            Err(format!("issued {} s in the future", -age))
                        } else if age > FLOW_SECONDS + CLOCK_SKEW_SECONDS {
                            Err(format!("issued {age} s ago"))
                        } else {
                            Ok(())
                        }
                    });
            let renewal = subject.is_some();
            id_token
                .claims(&verifier, |n: Option<&Nonce>| match (renewal, n) {
                    (true, _) => Ok(()),
                    (false, Some(n)) if n.secret() == nonce.secret() => Ok(()),
                    (false, Some(_)) => Err("nonce mismatch".to_string()),
                    (false, None) => Err("missing nonce".to_string()),
                })
                .cloned()
        };
        let client = self.client(false).await?;
        let claims = match verify(&client) {
            Err(ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::NoMatchingKey,
            )) => {
                // A key not seen before: the provider may have rotated. Its keys once more.
                tracing::info!(region = %self.cfg.region, "an ID token signed with an unknown key: fetching the provider's keys again");
                let client = self.client(true).await?;
                verify(&client)
            }
            other => other,
        }
        .map_err(|e| OidcError::Refused(format!("ID token: {e}")))?;
        let sub = claims.subject().as_str().to_string();
        if let Some(expected) = subject {
            if sub != expected {
                return Err(OidcError::Refused(format!(
                    "the renewal's subject {sub} is not the session's"
                )));
            }
        }
        let amr: Vec<String> = claims
            .auth_method_refs()
            .into_iter()
            .flatten()
            .map(|m| m.as_str().to_string())
            .collect();
        claims::strong_enough(
            claims.auth_context_ref().map(|a| a.as_str()),
            &amr,
            &self.cfg.acr_values,
            &self.cfg.required_amr,
        )
        .map_err(OidcError::TooWeak)?;
        let groups = claims::groups(claims.additional_claims().0.get(&self.cfg.groups_claim));
        let role = claims::role_for(&groups, &self.cfg.roles.handlers, &self.cfg.roles.readers)
            .ok_or(OidcError::NoRole)?;
        let name = claims
            .name()
            .and_then(|n| n.get(None))
            .map(|n| n.as_str().to_string())
            .or_else(|| claims.preferred_username().map(|u| u.as_str().to_string()))
            .unwrap_or_else(|| sub.clone());
        Ok(Identity {
            subject: sub,
            name: name.chars().take(200).collect(),
            role,
            refresh: tokens
                .refresh_token()
                .map(|r| r.secret().clone())
                .or_else(|| old_refresh.map(str::to_string)),
            until: claims.expiration(),
        })
    }
}

fn token_error<RE: std::error::Error + 'static>(
    e: RequestTokenError<RE, StandardErrorResponse<CoreErrorResponseType>>,
) -> OidcError {
    match e {
        RequestTokenError::ServerResponse(r) => {
            let said = format!(
                "the token endpoint said {}{}",
                r.error().as_ref(),
                r.error_description()
                    .map(|d| format!(": {d}"))
                    .unwrap_or_default()
            );
            // RFC 6749's refusals refuse; anything else (`server_error`,
            // `temporarily_unavailable`) is the provider not answering usably, which must not
            // end a session at its renewal.
            match r.error() {
                CoreErrorResponseType::Extension(_) => OidcError::Provider(said),
                _ => OidcError::Refused(said),
            }
        }
        RequestTokenError::Request(e) => provider_error(e),
        RequestTokenError::Parse(e, _) => OidcError::Provider(format!("the token answer: {e}")),
        RequestTokenError::Other(e) => OidcError::Provider(e),
    }
}
