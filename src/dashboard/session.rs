//! Who is signed in to the dashboard, kept in a cookie the service signs.
//!
//! A session is `<scope>.<expires>.<nonce>.<mac>`: the scope is `*` (the
//! global admin token) or an instance name (its scoped token, or a link from
//! its addon), the expiry Unix seconds, the nonce 16 random bytes that tell
//! sessions apart, and the MAC an HMAC-SHA256 of `session`, the scope, the
//! expiry and the nonce (each followed by a newline) under the session key. That key comes from `PUENTE_DASHBOARD_KEY`, else from a
//! random key file in the data folder ([`KEY_FILE`]): never from a hook
//! secret or admin token, which WHMCS or its staff hold. Signing out records
//! the nonce as spent (`store::dashboard`), so the cookie is refused from
//! then on, restarts included.
//!
//! Links from an addon are signed with a key derived by HKDF from the
//! instance's own hook secret ([`LINK_KEY_PURPOSE`]), never with another
//! instance's or the global one (except for `default`, whose secrets the
//! global ones are).
//!
//! Forms carry a CSRF token derived from the session cookie, so a post needs
//! both the cookie (which browsers only send from the dashboard's own pages:
//! `SameSite=Strict`) and a value only the dashboard's pages contain.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as BASE64URL;
use hmac::{KeyInit, Mac};
use secrecy::ExposeSecret as _;
use sha2::Sha256;
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

/// The file in the data folder that holds the session key when
/// `PUENTE_DASHBOARD_KEY` is not set.
pub const KEY_FILE: &str = "dashboard.key";

/// The HKDF info that turns an instance's hook secret into the key of its
/// dashboard links (the addon's `DashboardLink` uses the same).
pub const LINK_KEY_PURPOSE: &str = "puente dashboard link v1";

/// Failed sign-ins one address may make in [`SIGN_IN_WINDOW_S`].
pub const SIGN_IN_FAILURES: usize = 10;

/// The window over which failed sign-ins are counted.
pub const SIGN_IN_WINDOW_S: i64 = 15 * 60;

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
    /// Who signed in: `token` (the admin token) or `whmcs-admin-<id>` (the
    /// addon's link), for the audit of what the session does.
    pub operator: String,
    pub expires: i64,
    /// Tells this session apart from every other; spent on sign-out.
    pub nonce: String,
}

/// The operator of a session the admin token opened.
pub const TOKEN_OPERATOR: &str = "token";

/// The operator of a session the addon's link opened for WHMCS admin
/// `admin` (ASCII letters and digits, as the link checks).
pub fn whmcs_admin_operator(admin: &str) -> String {
    format!("whmcs-admin-{admin}")
}

/// The WHMCS admin an operator is, if the addon's link opened the session.
pub fn whmcs_admin_of(operator: &str) -> Option<&str> {
    operator.strip_prefix("whmcs-admin-")
}

impl Session {
    /// What `store::dashboard` records when the session signs out.
    pub fn spent_token(&self) -> String {
        format!("session:{}", self.nonce)
    }
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
    /// The key in effect: `PUENTE_DASHBOARD_KEY`, else the key file in the
    /// data folder, created (owner-only) on the first start.
    pub fn load(config: &Config) -> anyhow::Result<Self> {
        if let Some(key) = &config.dashboard_key {
            return Ok(Self::from_secret(key.expose_secret().as_bytes()));
        }
        let path = config.data_dir().join(KEY_FILE);
        let text = crate::dev::read_or_create(&path, || {
            let mut bytes = [0u8; 32];
            getrandom::fill(&mut bytes)
                .map_err(|error| anyhow::anyhow!("cannot draw a dashboard key: {error}"))?;
            Ok(BASE64URL.encode(bytes))
        })?;
        Ok(Self::from_secret(text.as_bytes()))
    }

    /// The session key of a configured or stored secret.
    pub fn from_secret(secret: &[u8]) -> Self {
        let mut key = [0u8; 32];
        hkdf::Hkdf::<Sha256>::new(None, secret)
            .expand(b"puente dashboard session v1", &mut key)
            .expect("32 bytes is a valid HKDF-SHA256 output length");
        Self(key)
    }

    fn mac(&self, parts: &[&str]) -> [u8; 32] {
        let mut mac = HmacSha256::new_from_slice(&self.0).expect("HMAC takes any key length");
        for part in parts {
            mac.update(part.as_bytes());
            mac.update(b"\n");
        }
        mac.finalize().into_bytes().into()
    }

    /// The cookie value of a new session of `scope` for `operator` (ASCII
    /// letters, digits and `-`), signed in at `now`:
    /// `<scope>.<expires>.<operator>.<nonce>.<mac>`. The random nonce makes
    /// each session, and so its CSRF token and its sign-out, its own:
    /// without randomness from the OS there is no session.
    pub fn issue(
        &self,
        scope: &Scope,
        operator: &str,
        now: i64,
    ) -> Result<String, getrandom::Error> {
        debug_assert!(
            operator
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        );
        let expires = (now + LIFETIME_S).to_string();
        let mut nonce = [0u8; 16];
        getrandom::fill(&mut nonce)?;
        let nonce = BASE64URL.encode(nonce);
        let mac = self.mac(&["session", scope.as_text(), &expires, operator, &nonce]);
        Ok(format!(
            "{}.{expires}.{operator}.{nonce}.{}",
            scope.as_text(),
            BASE64URL.encode(mac)
        ))
    }

    /// The session a cookie value holds, if it is ours and not expired.
    pub fn verify(&self, cookie: &str, now: i64) -> Option<Session> {
        // From the right: an instance name may itself contain dots.
        let mut parts = cookie.rsplitn(5, '.');
        let (Some(mac_text), Some(nonce), Some(operator), Some(expires_text), Some(scope_text)) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return None;
        };
        let presented = BASE64URL.decode(mac_text).ok()?;
        let expected = self.mac(&["session", scope_text, expires_text, operator, nonce]);
        if !bool::from(presented.as_slice().ct_eq(expected.as_slice())) {
            return None;
        }
        let expires = expires_text.parse::<i64>().ok()?;
        if expires <= now {
            return None;
        }
        Some(Session {
            scope: Scope::parse(scope_text)?,
            operator: operator.to_owned(),
            expires,
            nonce: nonce.to_owned(),
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
    /// `v1,<base64>`: Standard Webhooks' signature, with the instance's link
    /// key (HKDF of its hook secret, [`LINK_KEY_PURPOSE`]), of id
    /// `dash_<nonce>`, timestamp `expires` and the body
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
    #[error(
        "this instance has no hook secret of its own; give it `secrets` in its \
         [instances.<name>] table to open its dashboard from WHMCS"
    )]
    NoOwnSecret,
}

impl SignInLink {
    /// The text the addon signs.
    pub fn body(instance: &str, admin: &str) -> String {
        format!("puente-dashboard-link:{instance}:{admin}")
    }

    /// The instance this link signs in to, if its signature matches the link
    /// key of one of the instance's own hook secrets and it is valid at
    /// `now`. The global secrets are `default`'s own; an instance that has
    /// none of its own is refused, since every WHMCS holding the global
    /// secret could otherwise enter its dashboard.
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
        let own = if instance == InstanceName::default_instance() {
            &config.hook_secrets
        } else {
            &config.instances[&instance].secrets
        };
        if own.is_empty() {
            return Err(LinkError::NoOwnSecret);
        }
        let keys = own
            .iter()
            .map(|secret| secret.derive(LINK_KEY_PURPOSE))
            .collect::<Vec<_>>();
        crate::signature::verify(&keys, headers, body.as_bytes(), now, tolerance)
            .map_err(|_| LinkError::BadSignature)?;
        Ok(instance)
    }

    /// What `store::dashboard` records once the link signed someone in.
    pub fn spent_token(&self) -> String {
        format!("link:{}:{}", self.instance, self.nonce)
    }
}

/// Failed sign-ins by address, over the last [`SIGN_IN_WINDOW_S`]: an
/// address that failed [`SIGN_IN_FAILURES`] times waits for the oldest
/// failure to leave the window, whatever it presents.
#[derive(Debug, Default)]
pub struct SignInLimit(std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, Vec<i64>>>);

impl SignInLimit {
    /// `Err(seconds to wait)` when `address` has used up its failures.
    pub fn check(&self, address: std::net::IpAddr, now: i64) -> Result<(), i64> {
        let mut failures = self.lock();
        let Some(times) = failures.get_mut(&address) else {
            return Ok(());
        };
        times.retain(|at| *at > now - SIGN_IN_WINDOW_S);
        match times.first() {
            Some(oldest) if times.len() >= SIGN_IN_FAILURES => Err(oldest + SIGN_IN_WINDOW_S - now),
            _ => Ok(()),
        }
    }

    /// Counts a failed sign-in from `address`.
    pub fn failed(&self, address: std::net::IpAddr, now: i64) {
        let mut failures = self.lock();
        // Addresses whose failures all left the window are forgotten, so the
        // map holds only the last quarter hour's.
        failures.retain(|_, times| times.last().is_some_and(|at| *at > now - SIGN_IN_WINDOW_S));
        failures.entry(address).or_default().push(now);
    }

    fn lock(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::HashMap<std::net::IpAddr, Vec<i64>>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{INSTANCE_SETTINGS, SETTINGS, Sources};
    use crate::signature::HookSecret;

    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const BETA_SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";

    fn config(vars: &[(&str, &str)], toml: &str) -> Config {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("puente.toml");
        std::fs::write(&file, toml).expect("TOML");
        let file = file.to_string_lossy().into_owned();
        let lookup = |name: &str| {
            vars.iter()
                .chain([&("PUENTE_CONFIG", file.as_str())])
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_owned())
        };
        let sources = Sources::load(lookup, SETTINGS, INSTANCE_SETTINGS).expect("sources");
        Config::from_sources(&sources).expect("config")
    }

    /// `default` on the global secret, `beta` with its own, `gamma` with
    /// none of its own.
    fn base() -> Config {
        config(
            &[
                ("PUENTE_HOOK_SECRETS", SECRET),
                ("PUENTE_ADMIN_TOKEN", "admin-token-0123456789"),
            ],
            &format!(
                "[instances.beta]\nsecrets = \"{BETA_SECRET}\"\n\
                 [instances.gamma]\ntimezone = \"UTC\"\n"
            ),
        )
    }

    fn key() -> SessionKey {
        SessionKey::from_secret(b"a dashboard key of at least 32 characters")
    }

    #[test]
    fn a_session_verifies_until_it_expires_and_not_after_any_change() {
        let key = key();
        let scope = Scope::Instance(InstanceName::parse("alfa").unwrap());
        let cookie = key.issue(&scope, "token", 1_000).unwrap();
        let session = key.verify(&cookie, 1_000).expect("valid");
        assert_eq!(session.scope, scope);
        assert_eq!(session.expires, 1_000 + LIFETIME_S);
        assert_eq!(cookie.split('.').nth(3), Some(session.nonce.as_str()));
        assert_eq!(session.operator, "token");
        assert_eq!(session.spent_token(), format!("session:{}", session.nonce));
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
        assert_ne!(
            key.issue(&scope, "token", 1_000).unwrap(),
            key.issue(&scope, "token", 1_000).unwrap()
        );
        assert_eq!(key.verify("", 1_000), None);
        // Another dashboard key: the old cookie is refused.
        let rotated = SessionKey::from_secret(b"another dashboard key of 32 characters");
        assert_eq!(rotated.verify(&cookie, 1_000), None);
        assert!(
            key.verify(&key.issue(&Scope::Global, "token", 5).unwrap(), 6)
                .is_some()
        );
        let dotted = Scope::Instance(InstanceName::parse("eu.alfa").unwrap());
        let session = key
            .verify(&key.issue(&dotted, "whmcs-admin-4", 5).unwrap(), 6)
            .expect("dotted instance");
        assert_eq!(session.scope, dotted);
        assert_eq!(session.operator, "whmcs-admin-4");
    }

    #[test]
    fn the_session_key_comes_from_its_own_setting_or_file_never_from_hook_secrets() {
        let dir = tempfile::tempdir().expect("temp dir");
        let database = dir.path().join("data/puente.db");
        let database = database.to_string_lossy().into_owned();
        let vars = [
            ("PUENTE_HOOK_SECRETS", SECRET),
            ("PUENTE_DATABASE", database.as_str()),
        ];
        let from_file = SessionKey::load(&config(&vars, "")).expect("key file");
        let path = dir.path().join("data").join(KEY_FILE);
        let stored = std::fs::read_to_string(&path).expect("the key file was created");
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(
            from_file.0,
            SessionKey::from_secret(stored.trim().as_bytes()).0
        );
        // The same file on the next start: sessions survive a restart.
        let cookie = from_file.issue(&Scope::Global, "token", 1_000).unwrap();
        let again = SessionKey::load(&config(&vars, "")).expect("key file again");
        assert!(again.verify(&cookie, 1_001).is_some());
        // Other hook secrets or admin tokens change nothing; the key does.
        let rotated_secret = [
            ("PUENTE_HOOK_SECRETS", BETA_SECRET),
            ("PUENTE_DATABASE", database.as_str()),
            ("PUENTE_ADMIN_TOKEN", "another-admin-token-0123"),
        ];
        let same = SessionKey::load(&config(&rotated_secret, "")).expect("key");
        assert!(same.verify(&cookie, 1_001).is_some());
        let configured_key = "k".repeat(40);
        let with_key = [
            ("PUENTE_HOOK_SECRETS", SECRET),
            ("PUENTE_DATABASE", database.as_str()),
            ("PUENTE_DASHBOARD_KEY", configured_key.as_str()),
        ];
        let configured = SessionKey::load(&config(&with_key, "")).expect("configured key");
        assert_eq!(
            configured.0,
            SessionKey::from_secret(configured_key.as_bytes()).0
        );
        assert_eq!(configured.verify(&cookie, 1_001), None);
    }

    #[test]
    fn the_csrf_token_belongs_to_one_session() {
        let key = key();
        let one = key.issue(&Scope::Global, "token", 1_000).unwrap();
        let other = key.issue(&Scope::Global, "token", 2_000).unwrap();
        let token = key.csrf_token(&one);
        assert!(key.csrf_matches(&one, &token));
        assert!(!key.csrf_matches(&other, &token));
        assert!(!key.csrf_matches(&one, ""));
    }

    /// A link for `instance` signed with the link key of `secret`.
    fn link(instance: &str, secret: &str, expires: i64, nonce: &str) -> SignInLink {
        let secret = secret.parse::<HookSecret>().expect("secret");
        let body = SignInLink::body(instance, "3");
        SignInLink {
            instance: instance.into(),
            admin: "3".into(),
            expires: expires.to_string(),
            nonce: nonce.into(),
            signature: crate::signature::sign(
                &secret.derive(LINK_KEY_PURPOSE),
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
        let good = link("default", SECRET, now + 120, "n0nce");
        assert_eq!(
            good.verify(&config, now),
            Ok(InstanceName::default_instance())
        );
        assert_eq!(good.spent_token(), "link:default:n0nce");
        assert_eq!(
            link("default", SECRET, now, "n0nce").verify(&config, now),
            Err(LinkError::Expired)
        );
        assert_eq!(
            link("default", SECRET, now + 301, "n0nce").verify(&config, now),
            Err(LinkError::TooLong)
        );
        let mut other_admin = good.clone();
        other_admin.admin = "1".into();
        assert_eq!(
            other_admin.verify(&config, now),
            Err(LinkError::BadSignature)
        );
        let mut unknown = good.clone();
        unknown.instance = "delta".into();
        assert_eq!(
            unknown.verify(&config, now),
            Err(LinkError::UnknownInstance)
        );
        let mut bad_nonce = good.clone();
        bad_nonce.nonce = "a.b".into();
        assert_eq!(bad_nonce.verify(&config, now), Err(LinkError::Malformed));
    }

    #[test]
    fn a_scoped_instance_link_verifies_only_with_that_instance_own_secret() {
        let config = base();
        let now = 10_000;
        assert_eq!(
            link("beta", BETA_SECRET, now + 60, "a").verify(&config, now),
            Ok(InstanceName::parse("beta").unwrap())
        );
        // The global secret, or another instance's, opens no other dashboard.
        assert_eq!(
            link("beta", SECRET, now + 60, "a").verify(&config, now),
            Err(LinkError::BadSignature)
        );
        assert_eq!(
            link("default", BETA_SECRET, now + 60, "a").verify(&config, now),
            Err(LinkError::BadSignature)
        );
        // An instance on the global secrets has no link key of its own.
        assert_eq!(
            link("gamma", SECRET, now + 60, "a").verify(&config, now),
            Err(LinkError::NoOwnSecret)
        );
    }

    #[test]
    fn a_link_is_signed_with_a_key_derived_from_the_hook_secret_not_the_secret_itself() {
        let vector: serde_json::Value =
            serde_json::from_str(include_str!("../../fixtures/dashboard-link.json"))
                .expect("fixture");
        let text = |name: &str| vector[name].as_str().expect(name).to_owned();
        let secret = text("secret").parse::<HookSecret>().expect("secret");
        assert_eq!(text("purpose"), LINK_KEY_PURPOSE);
        let derived = secret.derive(LINK_KEY_PURPOSE);
        let expected_key = text("link_key").parse::<HookSecret>().expect("link key");
        let expires = vector["expires"].as_i64().expect("expires");
        let id = format!("dash_{}", text("nonce"));
        let body = SignInLink::body(&text("instance"), &text("admin"));
        assert_eq!(body, text("body"));
        let signature = crate::signature::sign(&derived, &id, expires, body.as_bytes());
        assert_eq!(signature, text("signature"));
        assert_eq!(
            crate::signature::sign(&expected_key, &id, expires, body.as_bytes()),
            signature
        );
        assert_eq!(
            crate::signature::sign(&secret, &id, expires, body.as_bytes()),
            text("signature_with_the_hook_secret_itself")
        );
        let presented = SignInLink {
            instance: text("instance"),
            admin: text("admin"),
            expires: expires.to_string(),
            nonce: text("nonce"),
            signature: text("signature_with_the_hook_secret_itself"),
        };
        assert_eq!(
            presented.verify(&base(), expires - 60),
            Err(LinkError::BadSignature)
        );
        let presented = SignInLink {
            signature: text("signature"),
            ..presented
        };
        assert_eq!(
            presented.verify(&base(), expires - 60),
            Ok(InstanceName::parse("beta").unwrap())
        );
    }

    #[test]
    fn an_address_that_failed_ten_times_waits_until_its_oldest_failure_is_a_quarter_hour_old() {
        let limit = SignInLimit::default();
        let one: std::net::IpAddr = "192.0.2.1".parse().unwrap();
        let other: std::net::IpAddr = "192.0.2.2".parse().unwrap();
        for second in 0..9 {
            limit.failed(one, 100 + second);
            assert_eq!(limit.check(one, 100 + second), Ok(()));
        }
        limit.failed(one, 109);
        assert_eq!(limit.check(one, 110), Err(100 + SIGN_IN_WINDOW_S - 110));
        assert_eq!(limit.check(other, 110), Ok(()));
        assert_eq!(limit.check(one, 100 + SIGN_IN_WINDOW_S - 1), Err(1));
        assert_eq!(limit.check(one, 100 + SIGN_IN_WINDOW_S), Ok(()));
    }
}
