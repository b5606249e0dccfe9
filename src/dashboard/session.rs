//! Who is signed in to the dashboard, kept in a cookie the service signs.
//!
//! A session is `<scope>.<expires>.<mac>`: the scope is `*` (the global
//! admin token) or an instance name (its scoped token, or a link from its
//! addon), the expiry Unix seconds, the MAC an HMAC-SHA256 of both under a
//! key derived from every admin token and hook secret configured. Nothing is
//! stored on the server; changing any of those secrets signs everyone out.
//!
//! Forms carry a CSRF token derived from the session cookie, so a post needs
//! both the cookie (which browsers only send from the dashboard's own pages:
//! `SameSite=Strict`) and a value only the dashboard's pages contain.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as BASE64URL;
use hmac::{KeyInit, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::config::Config;
use crate::domain::ids::InstanceName;

type HmacSha256 = hmac::Hmac<Sha256>;

/// Name of the session cookie.
pub const COOKIE: &str = "puente_session";

/// How long a session lasts after sign-in.
pub const LIFETIME_S: i64 = 8 * 3600;

/// The longest a link from the addon may stay valid.
pub const LINK_LIFETIME_S: i64 = 300;

/// What a session may see: every instance, or one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Global,
    Instance(InstanceName),
}

impl Scope {
    fn as_text(&self) -> &str {
        match self {
            Scope::Global => "*",
            Scope::Instance(name) => name.as_str(),
        }
    }

    fn parse(text: &str) -> Option<Self> {
        match text {
            "*" => Some(Scope::Global),
            name => InstanceName::parse(name).ok().map(Scope::Instance),
        }
    }

    /// The instance a scoped session is limited to.
    pub fn instance(&self) -> Option<&InstanceName> {
        match self {
            Scope::Global => None,
            Scope::Instance(name) => Some(name),
        }
    }
}

/// A verified session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub scope: Scope,
    pub expires: i64,
}

/// The key sessions and CSRF tokens are signed with.
#[derive(Clone)]
pub struct SessionKey([u8; 32]);

impl std::fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionKey(redacted)")
    }
}

impl SessionKey {
    /// Derives the key from every admin token and hook secret of `config`.
    pub fn from_config(config: &Config) -> Self {
        let mut digest = Sha256::new();
        digest.update(b"puente dashboard session key v1");
        if let Some(token) = &config.admin_token {
            digest.update(b"\0global-token\0");
            token.feed(&mut digest);
        }
        for secret in &config.hook_secrets {
            digest.update(b"\0hook-secret\0");
            secret.feed(&mut digest);
        }
        for (name, instance) in &config.instances {
            digest.update(b"\0instance\0");
            digest.update(name.as_str().as_bytes());
            if let Some(token) = &instance.admin_token {
                digest.update(b"\0token\0");
                token.feed(&mut digest);
            }
            for secret in &instance.secrets {
                digest.update(b"\0hook-secret\0");
                secret.feed(&mut digest);
            }
        }
        Self(digest.finalize().into())
    }

    fn mac(&self, parts: &[&str]) -> [u8; 32] {
        let mut mac = HmacSha256::new_from_slice(&self.0).expect("HMAC takes any key length");
        for part in parts {
            mac.update(part.as_bytes());
            mac.update(b"\n");
        }
        mac.finalize().into_bytes().into()
    }

    /// The cookie value of a new session of `scope`, signed in at `now`:
    /// `<scope>.<expires>.<nonce>.<mac>`; the random nonce makes each
    /// session, and so its CSRF token, its own.
    pub fn issue(&self, scope: &Scope, now: i64) -> String {
        let expires = (now + LIFETIME_S).to_string();
        let mut nonce = [0u8; 16];
        // No randomness from the OS is no reason to refuse a sign-in: the
        // nonce only tells sessions apart, the MAC protects them.
        let _ = getrandom::fill(&mut nonce);
        let nonce = BASE64URL.encode(nonce);
        let mac = self.mac(&["session", scope.as_text(), &expires, &nonce]);
        format!(
            "{}.{expires}.{nonce}.{}",
            scope.as_text(),
            BASE64URL.encode(mac)
        )
    }

    /// The session a cookie value holds, if it is ours and not expired.
    pub fn verify(&self, cookie: &str, now: i64) -> Option<Session> {
        // From the right: an instance name may itself contain dots.
        let mut parts = cookie.rsplitn(4, '.');
        let (Some(mac_text), Some(nonce), Some(expires_text), Some(scope_text)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        let presented = BASE64URL.decode(mac_text).ok()?;
        let expected = self.mac(&["session", scope_text, expires_text, nonce]);
        if !bool::from(presented.as_slice().ct_eq(expected.as_slice())) {
            return None;
        }
        let expires = expires_text.parse::<i64>().ok()?;
        if expires <= now {
            return None;
        }
        Some(Session {
            scope: Scope::parse(scope_text)?,
            expires,
        })
    }

    /// The CSRF token of the session whose cookie value is `cookie`.
    pub fn csrf_token(&self, cookie: &str) -> String {
        BASE64URL.encode(self.mac(&["csrf", cookie]))
    }

    /// Whether `presented` is the CSRF token of the session `cookie`.
    pub fn csrf_matches(&self, cookie: &str, presented: &str) -> bool {
        let expected = self.csrf_token(cookie);
        expected.as_bytes().ct_eq(presented.as_bytes()).into()
    }
}

/// A sign-in link made by an addon's admin page for a logged-in WHMCS admin,
/// as its query string carries it.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignInLink {
    pub instance: String,
    /// The WHMCS admin's id, for the log.
    pub admin: String,
    /// Unix seconds after which the link is refused.
    pub expires: String,
    /// Random, so two links never sign the same text; a used one is refused.
    pub nonce: String,
    /// `v1,<base64>`: Standard Webhooks' signature, with the instance's hook
    /// secret, of id `dash_<nonce>`, timestamp `expires` and the body
    /// `puente-dashboard-link:<instance>:<admin>`.
    pub signature: String,
}

/// Why a link was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LinkError {
    #[error("the link names no instance this service knows")]
    UnknownInstance,
    #[error("the link is malformed")]
    Malformed,
    #[error("the link has expired; open the dashboard again from WHMCS")]
    Expired,
    #[error("the link is valid for longer than the 5 minutes allowed")]
    TooLong,
    #[error("the link's signature does not match this instance's hook secret")]
    BadSignature,
}

impl SignInLink {
    /// The text the addon signs.
    pub fn body(instance: &str, admin: &str) -> String {
        format!("puente-dashboard-link:{instance}:{admin}")
    }

    /// The instance this link signs in to, if its signature matches one of
    /// the instance's hook secrets and it is valid at `now`.
    pub fn verify(&self, config: &Config, now: i64) -> Result<InstanceName, LinkError> {
        let instance =
            InstanceName::parse(&self.instance).map_err(|_| LinkError::UnknownInstance)?;
        if !config.instances.contains_key(&instance) {
            return Err(LinkError::UnknownInstance);
        }
        let well_formed = |text: &str| {
            !text.is_empty() && text.len() <= 64 && text.bytes().all(|b| b.is_ascii_alphanumeric())
        };
        if !well_formed(&self.admin) || !well_formed(&self.nonce) {
            return Err(LinkError::Malformed);
        }
        let expires = self
            .expires
            .parse::<i64>()
            .map_err(|_| LinkError::Malformed)?;
        if expires <= now {
            return Err(LinkError::Expired);
        }
        if expires - now > LINK_LIFETIME_S {
            return Err(LinkError::TooLong);
        }
        let id = format!("dash_{}", self.nonce);
        let headers = crate::signature::SignatureHeaders {
            id: Some(&id),
            timestamp: Some(&self.expires),
            signature: Some(&self.signature),
        };
        let body = Self::body(instance.as_str(), &self.admin);
        let tolerance = u64::try_from(LINK_LIFETIME_S).unwrap_or(u64::MAX);
        crate::signature::verify(
            config.secrets_for(Some(&instance)),
            headers,
            body.as_bytes(),
            now,
            tolerance,
        )
        .map_err(|_| LinkError::BadSignature)?;
        Ok(instance)
    }
}

/// Links already used, until they expire: a link signs in once.
#[derive(Debug, Default)]
pub struct UsedLinks(std::sync::Mutex<std::collections::HashMap<String, i64>>);

impl UsedLinks {
    /// Records `nonce` as used; false when it already was.
    pub fn first_use(&self, nonce: &str, expires: i64, now: i64) -> bool {
        let mut used = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        used.retain(|_, until| *until > now);
        used.insert(nonce.to_owned(), expires).is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{INSTANCE_SETTINGS, SETTINGS, Sources};

    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    fn config(vars: &[(&str, &str)]) -> Config {
        let lookup = |name: &str| {
            vars.iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_owned())
        };
        let sources = Sources::load(lookup, SETTINGS, INSTANCE_SETTINGS).expect("sources");
        Config::from_sources(&sources).expect("config")
    }

    fn base() -> Config {
        config(&[
            ("PUENTE_HOOK_SECRETS", SECRET),
            ("PUENTE_ADMIN_TOKEN", "admin-token-0123456789"),
        ])
    }

    #[test]
    fn a_session_verifies_until_it_expires_and_not_after_any_change() {
        let key = SessionKey::from_config(&base());
        let scope = Scope::Instance(InstanceName::parse("alfa").unwrap());
        let cookie = key.issue(&scope, 1_000);
        assert_eq!(
            key.verify(&cookie, 1_000),
            Some(Session {
                scope: scope.clone(),
                expires: 1_000 + LIFETIME_S
            })
        );
        assert_eq!(key.verify(&cookie, 1_000 + LIFETIME_S), None);
        // Another scope, expiry or MAC under the same key: refused.
        let (_, rest) = cookie.split_once('.').unwrap();
        assert_eq!(key.verify(&format!("*.{rest}"), 1_000), None);
        let forged = cookie.replace(&(1_000 + LIFETIME_S).to_string(), "99999999");
        assert_eq!(key.verify(&forged, 1_000), None);
        assert_eq!(key.verify("alfa.99999999", 1_000), None);
        assert_eq!(key.verify("alfa.99999999.x.y.z", 1_000), None);
        assert_eq!(key.verify("a.b.c", 1_000), None);
        // Two sign-ins in the same second are two sessions.
        assert_ne!(key.issue(&scope, 1_000), key.issue(&scope, 1_000));
        assert_eq!(key.verify("", 1_000), None);
        // A rotated token derives another key: the old cookie is refused.
        let rotated = SessionKey::from_config(&config(&[
            ("PUENTE_HOOK_SECRETS", SECRET),
            ("PUENTE_ADMIN_TOKEN", "admin-token-rotated-012"),
        ]));
        assert_eq!(rotated.verify(&cookie, 1_000), None);
        assert!(key.verify(&key.issue(&Scope::Global, 5), 6).is_some());
        let dotted = Scope::Instance(InstanceName::parse("eu.alfa").unwrap());
        let session = key
            .verify(&key.issue(&dotted, 5), 6)
            .expect("dotted instance");
        assert_eq!(session.scope, dotted);
    }

    #[test]
    fn the_csrf_token_belongs_to_one_session() {
        let key = SessionKey::from_config(&base());
        let one = key.issue(&Scope::Global, 1_000);
        let other = key.issue(&Scope::Global, 2_000);
        let token = key.csrf_token(&one);
        assert!(key.csrf_matches(&one, &token));
        assert!(!key.csrf_matches(&other, &token));
        assert!(!key.csrf_matches(&one, ""));
    }

    fn link(config: &Config, expires: i64, nonce: &str) -> SignInLink {
        let secret = &config.secrets_for(None)[0];
        let body = SignInLink::body("default", "3");
        SignInLink {
            instance: "default".into(),
            admin: "3".into(),
            expires: expires.to_string(),
            nonce: nonce.into(),
            signature: crate::signature::sign(
                secret,
                &format!("dash_{nonce}"),
                expires,
                body.as_bytes(),
            ),
        }
    }

    #[test]
    fn a_link_signed_with_the_instance_secret_signs_in_to_that_instance_only() {
        let config = base();
        let now = 10_000;
        let good = link(&config, now + 120, "n0nce");
        assert_eq!(
            good.verify(&config, now),
            Ok(InstanceName::default_instance())
        );
        assert_eq!(
            link(&config, now, "n0nce").verify(&config, now),
            Err(LinkError::Expired)
        );
        assert_eq!(
            link(&config, now + 301, "n0nce").verify(&config, now),
            Err(LinkError::TooLong)
        );
        let mut other_admin = good.clone();
        other_admin.admin = "1".into();
        assert_eq!(
            other_admin.verify(&config, now),
            Err(LinkError::BadSignature)
        );
        let mut other_instance = good.clone();
        other_instance.instance = "beta".into();
        assert_eq!(
            other_instance.verify(&config, now),
            Err(LinkError::UnknownInstance)
        );
        let mut bad_nonce = good.clone();
        bad_nonce.nonce = "a.b".into();
        assert_eq!(bad_nonce.verify(&config, now), Err(LinkError::Malformed));
    }

    #[test]
    fn a_link_signs_in_once() {
        let used = UsedLinks::default();
        assert!(used.first_use("abc", 200, 100));
        assert!(!used.first_use("abc", 200, 150));
        // Forgotten once expired (it would be refused as expired anyway).
        assert!(used.first_use("abc", 400, 250));
    }
}
