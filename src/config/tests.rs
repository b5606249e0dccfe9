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
    let rules = config.for_instance(&InstanceName::default_instance());
    assert_eq!(rules.whatsapp.mode, WhatsAppMode::DryRun);
    assert_eq!(
        rules.whatsapp.api_base.as_str(),
        "https://graph.facebook.com/v23.0"
    );
    assert_eq!(rules.whatsapp.send_rate, 20);
    assert_eq!(rules.upgrade_policy, UpgradePolicy::Seed);
    assert!(rules.alerts.brand.is_none());
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
fn the_default_instance_is_overridden_at_the_top_level_not_in_a_table() {
    let problems = from_toml(
        "[instances.default.whatsapp]\nphone_number_id = \"1001\"\n",
        &[("PUENTE_HOOK_SECRETS", SECRET)],
    )
    .expect_err("refused")
    .0;
    assert_eq!(
        problems,
        ["[instances.default]: the default instance is configured by the top-level settings"]
    );
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

fn from_toml(toml: &str, vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("puente.toml");
    std::fs::write(&path, toml).expect("write");
    let path = path.to_string_lossy().into_owned();
    let mut all: Vec<(&str, &str)> = vec![("PUENTE_CONFIG", &path)];
    all.extend_from_slice(vars);
    load(&all)
}

fn name(text: &str) -> InstanceName {
    InstanceName::parse(text).expect("valid name")
}

#[test]
fn the_setting_lists_agree() {
    let mut split: Vec<&str> = SERVICE_SETTINGS
        .iter()
        .chain(CONNECTION_SETTINGS)
        .chain(RULE_SETTINGS)
        .copied()
        .collect();
    let mut all = SETTINGS.to_vec();
    split.sort_unstable();
    all.sort_unstable();
    assert_eq!(split, all);
    let mut instance: Vec<&str> = CONNECTION_SETTINGS
        .iter()
        .chain(RULE_SETTINGS)
        .copied()
        .collect();
    let mut allowed = INSTANCE_SETTINGS.to_vec();
    instance.sort_unstable();
    allowed.sort_unstable();
    assert_eq!(instance, allowed);
    assert!(SECRET_SETTINGS.iter().all(|key| SETTINGS.contains(key)));
}

const TWO_INSTANCES: &str = r#"
    [upgrade]
    policy = "prorata"
    targets = "12:13"
    manual_department = 3
    [transfer]
    approval = "staff"
    [instances.alfa]
    whmcs_url = "https://alfa.example"
    identifier = "a"
    secret = "s"
    whatsapp_phone_number_id = "1001"
    upgrade_targets = "12:14,15"
    alerts_brand = "Alfa Hosting"
    retention_days = 30
    [instances.beta]
    whmcs_url = "https://beta.example"
    identifier = "b"
    secret = "s"
    [instances.beta.upgrade]
    policy = "seed_same_due_date"
    tiers = "12:1 13:0"
    [instances.beta.whatsapp]
    mode = "cloud"
    phone_number_id = "2002"
    token = "beta-token"
    send_rate = 5
    [instances.beta.transfer]
    expiry_days = 3
    [instances.beta.cancellation]
    immediate_hour = 22
"#;

#[test]
fn an_instance_overrides_exactly_what_it_sets_and_inherits_the_rest() {
    let config = from_toml(
        TWO_INSTANCES,
        &[
            ("PUENTE_HOOK_SECRETS", SECRET),
            ("PUENTE_WHATSAPP_PHONE_NUMBER_ID", "9009"),
            ("PUENTE_ALERTS_CONSENT", "explicit"),
            ("PUENTE_ALERTS_OPTIN_FIELD", "7"),
        ],
    )
    .expect("valid");
    let global = config.for_instance(&InstanceName::default_instance());
    let alfa = config.for_instance(&name("alfa"));
    let beta = config.for_instance(&name("beta"));

    assert_eq!(global.upgrade_policy, UpgradePolicy::Prorata);
    assert_eq!(global.upgrades.targets[&12], vec![13]);
    assert_eq!(global.whatsapp.phone_number_id.as_deref(), Some("9009"));

    // alfa: its own targets, phone number and brand; the rest global.
    assert_eq!(alfa.upgrades.targets[&12], vec![14, 15]);
    assert_eq!(alfa.whatsapp.phone_number_id.as_deref(), Some("1001"));
    assert_eq!(alfa.alerts.brand.as_deref(), Some("Alfa Hosting"));
    assert_eq!(alfa.upgrade_policy, UpgradePolicy::Prorata);
    assert_eq!(alfa.upgrades.manual_department, Some(3));
    assert_eq!(alfa.alerts.consent, Consent::Explicit);
    assert_eq!(alfa.alerts.optin_field, Some(7));
    assert_eq!(alfa.whatsapp.mode, WhatsAppMode::DryRun);
    assert_eq!(
        alfa.transfers.approval,
        crate::domain::transfer::Approval::Staff
    );
    assert_eq!(alfa.transfers.expiry_days, 7);
    assert_eq!(alfa.retention_days, 30);
    assert_eq!(alfa.cancellations.immediate_hour, None);

    // beta: the section form.
    assert_eq!(beta.upgrade_policy, UpgradePolicy::SeedSameDueDate);
    assert_eq!(beta.upgrades.targets[&12], vec![13]);
    assert_eq!(beta.upgrades.tiers[&12], 1);
    assert_eq!(beta.whatsapp.mode, WhatsAppMode::Cloud);
    assert_eq!(beta.whatsapp.phone_number_id.as_deref(), Some("2002"));
    assert_eq!(beta.whatsapp.send_rate, 5);
    assert_eq!(beta.transfers.expiry_days, 3);
    assert_eq!(beta.cancellations.immediate_hour, Some(22));
    assert_eq!(beta.retention_days, 90);
    assert!(beta.alerts.brand.is_none());

    // An instance configured nowhere gets the global rules.
    assert_eq!(
        config
            .for_instance(&name("nowhere"))
            .whatsapp
            .phone_number_id
            .as_deref(),
        Some("9009")
    );
    assert_eq!(
        config
            .senders_of("2002")
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>(),
        ["beta"]
    );
}

#[test]
fn check_config_shows_each_instances_values_and_where_they_come_from() {
    let config = from_toml(
        TWO_INSTANCES,
        &[
            ("PUENTE_HOOK_SECRETS", SECRET),
            ("PUENTE_WHATSAPP_PHONE_NUMBER_ID", "9009"),
        ],
    )
    .expect("valid");
    let shown = config.to_string();
    let section = |instance: &str| {
        let start = shown
            .find(&format!("instance {instance}\n"))
            .unwrap_or_else(|| panic!("no section for {instance} in {shown}"));
        let rest = &shown[start + 1..];
        let end = rest.find("\ninstance ").map_or(rest.len(), |end| end + 1);
        rest[..end].to_owned()
    };
    let line = |section: &str, key: &str| {
        section
            .lines()
            .find(|line| line.trim_start().starts_with(&format!("{key} ")))
            .unwrap_or_else(|| panic!("no {key} in {section}"))
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    let alfa = section("alfa");
    let beta = section("beta");
    let default = section("default");
    assert!(
        line(&alfa, "upgrade_targets")
            .starts_with("upgrade_targets 12:14,15 `instances.alfa.upgrade_targets` in"),
        "{alfa}"
    );
    assert!(
        line(&alfa, "upgrade_policy").starts_with("upgrade_policy prorata `upgrade.policy` in"),
        "{alfa}"
    );
    assert!(
        line(&beta, "whatsapp_phone_number_id").starts_with(
            "whatsapp_phone_number_id 2002 `instances.beta.whatsapp.phone_number_id` in"
        ),
        "{beta}"
    );
    assert!(
        line(&beta, "whatsapp_token")
            .starts_with("whatsapp_token set `instances.beta.whatsapp.token` in"),
        "{beta}"
    );
    assert_eq!(
        line(&default, "whatsapp_phone_number_id"),
        "whatsapp_phone_number_id 9009 PUENTE_WHATSAPP_PHONE_NUMBER_ID"
    );
    assert_eq!(
        line(&default, "transfer_expiry_days"),
        "transfer_expiry_days 7 built-in default"
    );
    // Every rule setting is shown for every instance; no secret value is.
    for key in RULE_SETTINGS {
        for section in [&alfa, &beta, &default] {
            line(section, key);
        }
    }
    assert!(!shown.contains("beta-token"));
}

#[test]
fn a_setting_for_an_instance_that_is_not_declared_stops_start_up_naming_it() {
    let problems = from_toml(
        r#"
        [instances.alfa]
        whmcs_url = "https://alfa.example"
        identifier = "a"
        secret = "s"
        [instances.alpha.whatsapp]
        phone_number_id = "1001"
        "#,
        &[("PUENTE_HOOK_SECRETS", SECRET)],
    )
    .expect_err("refused")
    .0;
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(
        problems[0].contains("`instances.alpha.whatsapp.phone_number_id` in"),
        "{problems:#?}"
    );
    assert!(
        problems[0].contains("names the instance `alpha`, which is not declared"),
        "{problems:#?}"
    );
    assert!(
        problems[0].contains("declared instances: default, alfa"),
        "{problems:#?}"
    );
}

#[test]
fn an_instances_bad_or_incomplete_settings_are_named_with_the_instance() {
    let problems = from_toml(
        r#"
        [alerts]
        templates = "/nonexistent/alerts.toml"
        [instances.alfa]
        whmcs_url = "https://alfa.example"
        identifier = "a"
        secret = "s"
        whatsapp_mode = "cloud"
        upgrade_policy = "cheapest"
        [instances.beta]
        timezone = "UTC"
        admin_token = "0123456789abcdef"
        "#,
        &[
            ("PUENTE_HOOK_SECRETS", SECRET),
            ("PUENTE_ADMIN_TOKEN", "0123456789abcdef"),
        ],
    )
    .expect_err("refused")
    .0;
    let expected = [
        "`alerts.templates` in",
        "`instances.alfa.upgrade_policy` in",
        "[instances.alfa] whatsapp_phone_number_id is required when [instances.alfa] whatsapp_mode is `cloud`",
        "[instances.alfa] whatsapp_token is required when [instances.alfa] whatsapp_mode is `cloud`",
        "`instances.beta.admin_token` in",
    ];
    for part in expected {
        assert!(
            problems.iter().any(|p| p.contains(part)),
            "no problem has {part:?} in {problems:#?}"
        );
    }
    // The global templates file is reported once, not once per instance.
    assert_eq!(problems.len(), expected.len(), "{problems:#?}");
    assert!(
        problems
            .iter()
            .any(|p| p.contains("the same token as PUENTE_ADMIN_TOKEN"))
    );
}

#[test]
fn templates_that_use_the_brand_need_it_for_every_instance_that_uses_them() {
    let dir = tempfile::tempdir().expect("temp dir");
    let templates = dir.path().join("branded.toml");
    let branded = crate::domain::templates::DEFAULT_TOML.replace(
        "parameters = [\"client_name\", \"panel_link\"]\ntext.es = \"Hola {{1}}, te damos la bienvenida. Tu panel de cliente está en {{2}}\"\ntext.en = \"Hi {{1}}, welcome aboard. Your client panel is at {{2}}\"",
        "parameters = [\"client_name\", \"brand\", \"panel_link\"]\ntext.es = \"Hola {{1}}, te damos la bienvenida a {{2}}. Tu panel de cliente está en {{3}}\"\ntext.en = \"Hi {{1}}, welcome to {{2}}. Your client panel is at {{3}}\"",
    );
    assert_ne!(branded, crate::domain::templates::DEFAULT_TOML);
    std::fs::write(&templates, branded).expect("write");
    let toml = format!(
        r#"
        [instances.alfa]
        whmcs_url = "https://alfa.example"
        identifier = "a"
        secret = "s"
        alerts_templates = "{}"
        [instances.beta]
        whmcs_url = "https://beta.example"
        identifier = "b"
        secret = "s"
        alerts_templates = "{}"
        alerts_brand = "Beta Web"
        "#,
        templates.display(),
        templates.display()
    );
    let problems = from_toml(&toml, &[("PUENTE_HOOK_SECRETS", SECRET)])
        .expect_err("refused")
        .0;
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(
        problems[0].starts_with("[instances.alfa] alerts_brand is required"),
        "{problems:#?}"
    );
    let config = from_toml(
        &toml,
        &[
            ("PUENTE_HOOK_SECRETS", SECRET),
            ("PUENTE_ALERTS_BRAND", "Operador"),
        ],
    )
    .expect("valid with a global brand");
    assert_eq!(
        config.for_instance(&name("alfa")).alerts.brand.as_deref(),
        Some("Operador")
    );
    assert!(
        config
            .for_instance(&name("beta"))
            .alert_templates
            .uses(crate::domain::templates::Parameter::Brand)
    );
}

#[test]
fn the_reply_words_are_the_built_in_ones_unless_set_and_never_in_both_lists() {
    let config = load(&[("PUENTE_HOOK_SECRETS", SECRET)]).expect("valid");
    let words = &config
        .for_instance(&InstanceName::default_instance())
        .alerts
        .reply_words;
    assert_eq!(*words, crate::domain::replies::ReplyWords::default());

    let config = load(&[
        ("PUENTE_HOOK_SECRETS", SECRET),
        ("PUENTE_ALERTS_OPTOUT_WORDS", "Quitar, darme de BAJA"),
        ("PUENTE_ALERTS_OPTIN_WORDS", "volver"),
    ])
    .expect("valid");
    let words = &config
        .for_instance(&InstanceName::default_instance())
        .alerts
        .reply_words;
    assert_eq!(words.opt_out, ["quitar", "darme de baja"]);
    assert_eq!(words.opt_in, ["volver"]);

    let refused = problems(&[
        ("PUENTE_HOOK_SECRETS", SECRET),
        ("PUENTE_ALERTS_OPTOUT_WORDS", "stop, no"),
        ("PUENTE_ALERTS_OPTIN_WORDS", "No"),
    ]);
    assert!(
        refused
            .iter()
            .any(|problem| problem.contains("`no` is in both")
                && problem.contains("PUENTE_ALERTS_OPTOUT_WORDS")
                && problem.contains("PUENTE_ALERTS_OPTIN_WORDS")),
        "{refused:?}"
    );
    let refused = problems(&[
        ("PUENTE_HOOK_SECRETS", SECRET),
        ("PUENTE_ALERTS_OPTIN_WORDS", " , "),
    ]);
    assert!(
        refused
            .iter()
            .any(|problem| problem.contains("PUENTE_ALERTS_OPTIN_WORDS")),
        "{refused:?}"
    );
}
