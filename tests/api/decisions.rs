//! `POST /v1/decisions`: synchronous hooks answered with what the PHP hook
//! returns; the upgrade check refuses downgrades with the seed's text.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

fn validate_upgrade(pid: u64, language: &str, annual_price: &str) -> Value {
    let mut envelope = envelope("ShoppingCartValidateUpgrade");
    envelope["data"] = json!({
        "id": 7731,
        "pid": pid,
        "_puente": {
            "service": {"billingcycle": "Annually", "recurringamount": "100.00", "nextduedate": "2099-01-01"},
            "currency": "USD",
            "language": language,
            "upgrade_targets": [13],
            "target_pricing": {"annually": annual_price, "monthly": "-1.00"}
        }
    });
    envelope
}

async fn decide(app: &TestApp, id: &str, body: &Value) -> Value {
    let request = HookRequest::signed(SECRET, id, body.to_string());
    json_of(
        app.post_signed("/v1/decisions", request).await,
        StatusCode::OK,
    )
    .await
}

#[tokio::test]
async fn an_upgrade_to_a_bigger_plan_is_allowed() {
    let app = spawn_app().await;
    assert_eq!(
        decide(&app, "dec_1", &validate_upgrade(13, "spanish", "150.00")).await,
        json!({"return": []})
    );
    app.stop().await;
}

#[tokio::test]
async fn a_downgrade_is_refused_with_the_seed_text_in_the_clients_language() {
    let app = spawn_app().await;

    let spanish = decide(&app, "dec_es", &validate_upgrade(13, "spanish", "80.00")).await;
    let english = decide(&app, "dec_en", &validate_upgrade(13, "english", "80.00")).await;

    let text = |answer: &Value| answer["return"][0].as_str().expect("refusal").to_owned();
    assert!(
        text(&spanish).starts_with("No es posible bajar de plan"),
        "{spanish}"
    );
    assert!(text(&spanish).contains("solicite la baja del servicio"));
    assert!(
        text(&english).starts_with("Moving to a smaller plan is not possible"),
        "{english}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_product_outside_whmcs_upgrade_list_is_refused() {
    let app = spawn_app().await;
    let answer = decide(&app, "dec_list", &validate_upgrade(99, "spanish", "150.00")).await;
    assert!(
        answer["return"][0]
            .as_str()
            .expect("refusal")
            .contains("manualmente"),
        "{answer}"
    );
    app.stop().await;
}

#[tokio::test]
async fn hooks_without_a_rule_return_null_and_nothing_is_stored() {
    let app = spawn_app().await;
    let answer = decide(&app, "dec_other", &envelope("ClientAreaPageUpgrade")).await;
    assert_eq!(answer, json!({"return": null}));
    assert!(
        app.stored_ids().await.is_empty(),
        "decisions are not events"
    );
    app.stop().await;
}

#[tokio::test]
async fn unsigned_or_malformed_decision_requests_get_4xx() {
    let app = spawn_app().await;
    let body = validate_upgrade(13, "spanish", "150.00").to_string();
    let unsigned = app
        .post_signed(
            "/v1/decisions",
            HookRequest::signed(OTHER_SECRET, "dec_x", body),
        )
        .await;
    assert_error(unsigned, StatusCode::UNAUTHORIZED, "invalid_signature").await;

    let mut no_pid = validate_upgrade(13, "spanish", "150.00");
    no_pid["data"].as_object_mut().expect("data").remove("pid");
    let response = app
        .post_signed(
            "/v1/decisions",
            HookRequest::signed(SECRET, "dec_y", no_pid.to_string()),
        )
        .await;
    assert_error(response, StatusCode::BAD_REQUEST, "invalid_envelope").await;
    app.stop().await;
}

fn pricing_request(hook: &str, cycle: &str, annual_price: &str) -> Value {
    let mut envelope = envelope(hook);
    envelope["data"] = json!({
        "newproductbillingcycle": cycle,
        "price": 12.34,
        "_puente": {
            "service": {"billingcycle": "Annually", "recurringamount": "100.00", "nextduedate": "2099-01-01"},
            "currency": "USD",
            "language": "spanish",
            "upgrade_targets": [13],
            "target_pricing": {"annually": annual_price, "monthly": "15.00"},
            "paid_lines": [{"type": "Hosting", "amount": "100.00",
                            "duedate": "2098-01-01", "datepaid": "2097-12-30"}]
        }
    });
    envelope
}

#[tokio::test]
async fn the_price_override_and_the_checkout_amount_are_the_policy_s_charge() {
    let app = spawn_app().await;

    let shown = decide(
        &app,
        "dec_price",
        &pricing_request("OrderProductUpgradeOverride", "annually", "150.00"),
    )
    .await;
    let checkout = decide(
        &app,
        "dec_checkout",
        &pricing_request("PreUpgradeCheckout", "Annually", "150.00"),
    )
    .await;

    // The seed rule: 150 for the new year minus the 100 already paid, as
    // `puente quote` prices it (the period has not begun: its first day).
    let cli = crate::support::quote(
        &json!({
            "policy": "seed", "currency": "USD",
            "current": {"price": "100.00", "cycle": "Annually", "paid": "100.00",
                        "period_start": "2098-01-01", "next_due_date": "2099-01-01"},
            "target": {"price": "150.00", "cycle": "annually"},
            "on": "2098-01-01"
        })
        .to_string(),
    );
    let cli: Value = serde_json::from_slice(&cli.stdout).expect("quote JSON");
    assert_eq!(shown["return"]["price"], cli["charge"]);
    assert_eq!(shown, json!({"return": {"price": "50.00"}}));
    assert_eq!(
        checkout,
        json!({"return": {"amount": "50.00", "discount": "0.00"}})
    );
    let downgrade = decide(
        &app,
        "dec_down",
        &pricing_request("OrderProductUpgradeOverride", "annually", "80.00"),
    )
    .await;
    assert_eq!(
        downgrade,
        json!({"return": {}}),
        "a refused downgrade keeps WHMCS's own figure"
    );
    app.stop().await;
}

#[tokio::test]
async fn the_configured_policy_prices_the_upgrade() {
    let app = spawn_app_with(&[("PUENTE_UPGRADE_POLICY", "prorata")], "").await;
    let mut request = pricing_request("OrderProductUpgradeOverride", "annually", "150.00");
    // A period that ended before today is priced on its last day: WHMCS's
    // proration has no days left to charge, where seed would charge 50.00.
    request["data"]["_puente"]["service"]["nextduedate"] = json!("2021-01-01");
    request["data"]["_puente"]["paid_lines"][0]["duedate"] = json!("2020-01-01");

    let shown = decide(&app, "dec_prorata", &request).await;

    assert_eq!(shown, json!({"return": {"price": "0.00"}}));
    app.stop().await;
}
