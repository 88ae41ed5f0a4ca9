//! A region's identity provider as configured: the `[[oidc]]` entry and its checks, and
//! what is resolved from it (the client secret read from its file).

use openidconnect::{ClientId, ClientSecret, IssuerUrl};
use serde::Deserialize;
use std::path::PathBuf;

/// One region's identity provider (`[[oidc]]` in the config file).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcEntry {
    /// The region whose officers it signs in.
    pub region: String,
    /// The issuer, e.g. `https://login.microsoftonline.com/<tenant id>/v2.0` (a tenant's
    /// own; Entra's `common`, `organizations` and `consumers` are refused).
    pub issuer: String,
    /// Värn's client id at the provider.
    pub client_id: String,
    /// The file with the client secret (a relative name is read from systemd's credentials).
    pub client_secret_file: PathBuf,
    /// The ID token claim that lists the person's groups.
    #[serde(default = "default_groups_claim")]
    pub groups_claim: String,
    /// Which groups give which role.
    pub roles: RoleGroups,
    /// Scopes asked for beside `openid` and `profile` (e.g. `offline_access` for a refresh
    /// token, or the provider's name for the groups).
    #[serde(default)]
    pub scopes: Vec<String>,
    /// The `acr` values asked for; the token's `acr` must be one of them when any is named.
    #[serde(default)]
    pub acr_values: Vec<String>,
    /// The token's `amr` must name one of these when any is named (e.g. `["mfa"]`).
    #[serde(default)]
    pub required_amr: Vec<String>,
    /// How often a session is renewed through the provider, in minutes (default 60): a
    /// person removed there loses access within this time.
    #[serde(default = "default_renew_minutes")]
    pub renew_minutes: u32,
    /// Local passwords in this region: `break_glass` (default: only officers with a TOTP
    /// secret, `officer add --break-glass`), `off`, or `on` (every local login, as before).
    #[serde(default)]
    pub local_passwords: LocalPasswords,
}

fn default_groups_claim() -> String {
    "groups".into()
}

fn default_renew_minutes() -> u32 {
    60
}

/// The groups for each role (`[oidc.roles]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleGroups {
    /// Groups whose members read alarms and reports and see the statistics.
    #[serde(rename = "läsare", default)]
    pub readers: Vec<String>,
    /// Groups whose members also acknowledge, write, follow up and export.
    #[serde(rename = "handläggare", default)]
    pub handlers: Vec<String>,
}

/// Whether a region that signs in with its provider still takes local passwords.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LocalPasswords {
    /// Only break-glass accounts, each with a second factor (TOTP).
    #[default]
    BreakGlass,
    /// None.
    Off,
    /// Every local login.
    On,
}

/// One region's provider as configured, its secret read.
#[derive(Clone)]
pub struct RegionOidc {
    /// The region.
    pub region: String,
    /// The issuer.
    pub issuer: IssuerUrl,
    /// Värn's client id.
    pub client_id: ClientId,
    pub(super) client_secret: ClientSecret,
    /// The groups claim.
    pub groups_claim: String,
    /// The groups of each role.
    pub roles: RoleGroups,
    /// Extra scopes.
    pub scopes: Vec<String>,
    /// The `acr` values asked for and accepted.
    pub acr_values: Vec<String>,
    /// The `amr` values of which one is required.
    pub required_amr: Vec<String>,
    /// How often a session is renewed.
    pub renew_every: chrono::Duration,
    /// Local passwords in the region.
    pub local_passwords: LocalPasswords,
}

impl std::fmt::Debug for RegionOidc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegionOidc")
            .field("region", &self.region)
            .field("issuer", &self.issuer.as_str())
            .field("client_id", &self.client_id.as_str())
            .finish_non_exhaustive()
    }
}

impl OidcEntry {
    /// Checks the entry and reads its secret with `read_secret` (the config's secret-file
    /// rule). Errors name the field.
    pub fn resolve(
        &self,
        read_secret: impl Fn(&std::path::Path) -> Result<String, String>,
    ) -> Result<RegionOidc, String> {
        let name = format!("oidc (region {})", self.region);
        let issuer = url::Url::parse(&self.issuer)
            .map_err(|e| format!("{name}: issuer {}: {e}", self.issuer))?;
        let loopback = matches!(
            issuer.host(),
            Some(url::Host::Ipv4(a)) if a.is_loopback()
        ) || issuer.host_str() == Some("localhost")
            || issuer.host_str() == Some("[::1]");
        if issuer.scheme() != "https" && !loopback {
            return Err(format!(
                "{name}: issuer {} must be https (plain http only on loopback, for tests)",
                self.issuer
            ));
        }
        let shared = ["common", "organizations", "consumers"];
        if issuer
            .path_segments()
            .into_iter()
            .flatten()
            .any(|seg| shared.contains(&seg))
        {
            return Err(format!(
                "{name}: issuer {} is a shared Entra issuer; give the region's own tenant \
                 (https://login.microsoftonline.com/<tenant id>/v2.0)",
                self.issuer
            ));
        }
        if self.client_id.trim().is_empty() {
            return Err(format!("{name}: client_id is empty"));
        }
        if self.roles.readers.is_empty() && self.roles.handlers.is_empty() {
            return Err(format!(
                "{name}: roles names no group; give [oidc.roles] \"läsare\" and/or \"handläggare\""
            ));
        }
        if self.renew_minutes == 0 || self.renew_minutes > 24 * 60 {
            return Err(format!(
                "{name}: renew_minutes {} must be 1 to 1440",
                self.renew_minutes
            ));
        }
        let secret = read_secret(&self.client_secret_file).map_err(|e| format!("{name}: {e}"))?;
        Ok(RegionOidc {
            region: self.region.clone(),
            issuer: IssuerUrl::new(self.issuer.clone())
                .map_err(|e| format!("{name}: issuer: {e}"))?,
            client_id: ClientId::new(self.client_id.clone()),
            client_secret: ClientSecret::new(secret),
            groups_claim: self.groups_claim.clone(),
            roles: self.roles.clone(),
            scopes: self.scopes.clone(),
            acr_values: self.acr_values.clone(),
            required_amr: self.required_amr.clone(),
            renew_every: chrono::Duration::minutes(i64::from(self.renew_minutes)),
            local_passwords: self.local_passwords,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(extra: &str) -> Result<OidcEntry, String> {
        let text = format!(
            "region = \"sormland\"\nissuer = \"https://login.microsoftonline.com/0b5c1e2a/v2.0\"\n\
             client_id = \"varn\"\nclient_secret_file = \"/run/secret\"\n{extra}\n\
             [roles]\n\"handläggare\" = [\"g1\"]\n"
        );
        toml::from_str(&text).map_err(|e| e.to_string())
    }

    fn secret(_: &std::path::Path) -> Result<String, String> {
        Ok("s3cret".into())
    }

    #[test]
    fn an_entry_reads_its_secret_from_the_file_and_keeps_the_defaults() {
        let r = entry("").unwrap().resolve(secret).unwrap();
        assert_eq!(r.client_secret.secret(), "s3cret");
        assert_eq!(r.groups_claim, "groups");
        assert_eq!(r.renew_every, chrono::Duration::minutes(60));
        assert_eq!(r.local_passwords, LocalPasswords::BreakGlass);
        assert_eq!(r.roles.handlers, vec!["g1".to_string()]);
        assert!(
            !format!("{r:?}").contains("s3cret"),
            "the secret is not in Debug"
        );
        let unreadable = entry("").unwrap().resolve(|_| Err("no such file".into()));
        assert!(unreadable.unwrap_err().contains("no such file"));
    }

    #[test]
    fn a_shared_issuer_plain_http_no_roles_and_a_bad_renewal_are_refused_by_name() {
        for (issuer, why) in [
            (
                "https://login.microsoftonline.com/common/v2.0",
                "shared Entra issuer",
            ),
            (
                "https://login.microsoftonline.com/organizations/v2.0",
                "shared Entra issuer",
            ),
            ("http://idp.region.example", "must be https"),
            ("not a url", "issuer"),
        ] {
            let mut e = entry("").unwrap();
            e.issuer = issuer.into();
            let err = e.resolve(secret).unwrap_err();
            assert!(
                err.contains(why) && err.contains("region sormland"),
                "{issuer}: {err}"
            );
        }
        let mut e = entry("").unwrap();
        e.issuer = "http://127.0.0.1:9999".into();
        assert!(
            e.resolve(secret).is_ok(),
            "plain http on loopback, for tests"
        );
        let mut e = entry("renew_minutes = 0").unwrap();
        assert!(e
            .clone()
            .resolve(secret)
            .unwrap_err()
            .contains("renew_minutes"));
        e.renew_minutes = 60;
        e.roles = RoleGroups {
            readers: vec![],
            handlers: vec![],
        };
        assert!(e.resolve(secret).unwrap_err().contains("roles"));
        assert!(entry("client_secret = \"in the file\"")
            .unwrap_err()
            .contains("client_secret"));
        assert!(entry("local_passwords = \"maybe\"").is_err());
    }
}
