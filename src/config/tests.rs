use super::*;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn load(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let vars: Vec<(String, String)> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let sources =
        Config::sources(|name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))?;
    Config::from_sources(&sources)
}

fn problems(vars: &[(&str, &str)]) -> Vec<String> {
    load(vars).expect_err("configuration should be refused").0
}

#[test]
fn defaults_need_only_a_hook_secret() {
    let config = load(&[("PUENTE_HOOK_SECRETS", SECRET)]).expect("valid");
    assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(config.database, PathBuf::from("./data/puente.db"));
    assert_eq!(config.data_dir(), PathBuf::from("./data"));
    assert_eq!(config.timestamp_tolerance_s, 300);
    assert_eq!(config.whatsapp.mode, WhatsAppMode::DryRun);
    assert_eq!(
        config.whatsapp.api_base.as_str(),
        "https://graph.facebook.com/v23.0"
    );
    assert_eq!(config.upgrade_policy, UpgradePolicy::Seed);
    assert!(config.admin_token.is_none());
    let default = &config.instances[&InstanceName::default_instance()];
    assert!(default.whmcs.is_none());
    assert_eq!(default.timezone_name, "UTC");
}

#[test]
fn a_missing_secret_is_named_with_the_dev_alternative() {
    let problems = problems(&[]);
    assert_eq!(problems.len(), 1);
    assert!(problems[0].starts_with("PUENTE_HOOK_SECRETS is required"));
    assert!(problems[0].contains("puente serve --dev"));
}

#[test]
fn every_bad_setting_is_reported_with_its_variable() {
    let problems = problems(&[
        ("PUENTE_HOOK_SECRETS", "whsec_short"),
        ("PUENTE_LISTEN", "localhost"),
        ("PUENTE_TIMESTAMP_TOLERANCE_S", "0"),
        ("PUENTE_UPGRADE_POLICY", "cheapest"),
        ("PUENTE_TIMEZONE", "Mars/Olympus"),
        ("PUENTE_WHATSAPP_MODE", "cloud"),
        ("PUENTE_ADMIN_TOKEN", "short"),
        ("PUENTE_WHMCS_URL", "https://billing.example"),
    ]);
    let expected_prefixes = [
        "PUENTE_HOOK_SECRETS: secret #1",
        "PUENTE_LISTEN: `localhost` is not an address:port",
        "PUENTE_TIMESTAMP_TOLERANCE_S: `0` is not a whole number from 1 to 86400",
        "PUENTE_UPGRADE_POLICY: `cheapest` is not one of",
        "PUENTE_TIMEZONE: `Mars/Olympus` is not an IANA time zone",
        "PUENTE_WHATSAPP_PHONE_NUMBER_ID is required when PUENTE_WHATSAPP_MODE is `cloud`",
        "PUENTE_WHATSAPP_TOKEN is required when PUENTE_WHATSAPP_MODE is `cloud`",
        "PUENTE_ADMIN_TOKEN: must be at least 16 characters",
        "PUENTE_WHMCS_URL, PUENTE_WHMCS_IDENTIFIER and PUENTE_WHMCS_SECRET: must be set together",
    ];
    for prefix in expected_prefixes {
        assert!(
            problems.iter().any(|p| p.starts_with(prefix)),
            "no problem starts with {prefix:?} in {problems:#?}"
        );
    }
    assert_eq!(problems.len(), expected_prefixes.len(), "{problems:#?}");
}

#[test]
fn secret_values_never_appear_in_errors_or_debug_output() {
    let token = "a-very-secret-admin-token-value";
    let whmcs_secret = "whmcs-api-secret-value";
    let config = load(&[
        ("PUENTE_HOOK_SECRETS", SECRET),
        ("PUENTE_ADMIN_TOKEN", token),
        ("PUENTE_WHMCS_URL", "https://billing.example"),
        ("PUENTE_WHMCS_IDENTIFIER", "ident"),
        ("PUENTE_WHMCS_SECRET", whmcs_secret),
        ("PUENTE_WHATSAPP_TOKEN", "EAAG-meta-token-value"),
    ])
    .expect("valid");
    let shown = format!("{config:?}");
    for secret in [
        token,
        whmcs_secret,
        "EAAG-meta-token-value",
        "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    ] {
        assert!(!shown.contains(secret), "{secret} leaked into {shown}");
    }
    let refused = problems(&[(
        "PUENTE_HOOK_SECRETS",
        "whsec_bm90LWEtZ29vZC1zZWNyZXQ= whsec_!!",
    )]);
    assert!(
        !refused
            .iter()
            .any(|p| p.contains("bm90LWEtZ29vZC1zZWNyZXQ"))
    );
}

#[test]
fn the_admin_token_matches_only_itself() {
    let config = load(&[
        ("PUENTE_HOOK_SECRETS", SECRET),
        ("PUENTE_ADMIN_TOKEN", "0123456789abcdef"),
    ])
    .expect("valid");
    let token = config.admin_token.expect("configured");
    assert!(token.matches("0123456789abcdef"));
    assert!(!token.matches("0123456789abcdeF"));
    assert!(!token.matches("0123456789abcdef0"));
    assert!(!token.matches(""));
}

#[test]
fn instances_from_toml_get_their_own_secrets_and_fall_back_to_the_global_ones() {
    let other = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
    let toml = format!(
        r#"
        [hook]
        secrets = ["{SECRET}"]
        [instances.reseller]
        secrets = "{other}"
        whmcs_url = "https://reseller.example"
        identifier = "id"
        secret = "s"
        timezone = "Europe/Madrid"
        [instances.shared]
        public_url = "https://panel.example"
        "#
    );
    let sources = Sources::from_toml(
        std::path::Path::new("puente.toml"),
        &toml,
        SETTINGS,
        INSTANCE_SETTINGS,
    )
    .expect("valid TOML");
    let config = Config::from_sources(&sources).expect("valid");
    let name = |n: &str| InstanceName::parse(n).expect("valid name");
    let reseller = &config.instances[&name("reseller")];
    assert_eq!(reseller.timezone_name, "Europe/Madrid");
    assert_eq!(
        reseller.public_url.as_ref().map(Url::as_str),
        Some("https://reseller.example/")
    );
    assert_eq!(config.secrets_for(Some(&name("reseller"))).len(), 1);
    let probe =
        crate::signature::sign(&config.secrets_for(Some(&name("reseller")))[0], "e", 1, b"");
    let global = crate::signature::sign(&config.secrets_for(None)[0], "e", 1, b"");
    let shared = crate::signature::sign(&config.secrets_for(Some(&name("shared")))[0], "e", 1, b"");
    let unknown =
        crate::signature::sign(&config.secrets_for(Some(&name("nobody")))[0], "e", 1, b"");
    assert_ne!(probe, global);
    assert_eq!(shared, global);
    assert_eq!(unknown, global);
}

#[test]
fn an_instance_may_not_redefine_the_default_one() {
    let toml = format!("[hook]\nsecrets = \"{SECRET}\"\n[instances.default]\ntimezone = \"UTC\"\n");
    let sources = Sources::from_toml(
        std::path::Path::new("puente.toml"),
        &toml,
        SETTINGS,
        INSTANCE_SETTINGS,
    )
    .expect("valid TOML");
    let problems = Config::from_sources(&sources).expect_err("refused").0;
    assert!(problems[0].contains("[instances.default]"), "{problems:?}");
}
