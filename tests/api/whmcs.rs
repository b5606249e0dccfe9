//! The WHMCS API client against a fake WHMCS on port 0: the request WHMCS
//! documents, its loosely typed answers, and every way a call can fail.

use std::time::Duration;

use puente::config::WhmcsApi;
use puente::whmcs::{RetryPolicy, WhmcsClient, WhmcsError};
use rust_decimal::Decimal;
use secrecy::SecretString;
use wiremock::matchers::{body_string_contains, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::fixture;

const API_SECRET: &str = "s3cr!t-api-secret";

fn quick_retries(attempts: u32, timeout: Duration) -> RetryPolicy {
    RetryPolicy {
        attempts,
        first_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(2),
        timeout,
    }
}

/// A client of the fake WHMCS, installed in a `/billing` folder.
fn client(server: &MockServer, retry: RetryPolicy) -> WhmcsClient {
    let api = WhmcsApi {
        url: format!("{}/billing", server.uri()).parse().expect("url"),
        identifier: "puente-identifier".to_owned(),
        secret: SecretString::from(API_SECRET),
        accesskey: Some(SecretString::from("access-key-1")),
    };
    WhmcsClient::new(&api, retry).expect("client")
}

fn api_call(action: &str) -> wiremock::MockBuilder {
    Mock::given(method("POST"))
        .and(path("/billing/includes/api.php"))
        .and(body_string_contains(format!("action={action}")))
}

#[tokio::test]
async fn client_details_are_read_with_the_documented_form_encoded_request() {
    let server = MockServer::start().await;
    api_call("GetClientsDetails")
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .and(body_string_contains("identifier=puente-identifier"))
        .and(body_string_contains("secret=s3cr%21t-api-secret"))
        .and(body_string_contains("accesskey=access-key-1"))
        .and(body_string_contains("responsetype=json"))
        .and(body_string_contains("clientid=1842"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("api-GetClientsDetails")))
        .expect(1)
        .mount(&server)
        .await;

    let details = client(&server, RetryPolicy::default())
        .client_details(1842)
        .await
        .expect("details");

    assert_eq!(details.id, 1842);
    assert_eq!(details.owner_user_id, Some(1907));
    assert_eq!(details.firstname, "Amina");
    assert_eq!(
        (details.phonecc.as_str(), details.phonenumber.as_str()),
        ("234", "8031234567")
    );
    assert_eq!(details.country_code(), "NG");
    assert_eq!(details.currency_code, "USD");
    assert!(details.email_preferences.invoice && details.email_preferences.general);
    assert_eq!(details.customfields.len(), 1);
    assert_eq!(details.customfields[0].value, "Referred by partner");
    // WHMCS reads any non-empty `stats` as true: puente sends none.
    let [body] = &request_bodies(&server).await[..] else {
        panic!("one call");
    };
    assert!(!body.contains("stats"), "{body}");
}

/// The form bodies WHMCS received, in order.
async fn request_bodies(server: &MockServer) -> Vec<String> {
    server
        .received_requests()
        .await
        .expect("recorded")
        .into_iter()
        .map(|request| String::from_utf8_lossy(&request.body).into_owned())
        .collect()
}

#[tokio::test]
async fn loosely_typed_answers_are_read_leniently() {
    let server = MockServer::start().await;
    for action in [
        "GetInvoice",
        "GetClientsDomains",
        "GetQuotes",
        "GetClientsProducts",
    ] {
        api_call(action)
            .respond_with(
                ResponseTemplate::new(200).set_body_json(fixture(&format!("api-{action}"))),
            )
            .mount(&server)
            .await;
    }
    let whmcs = client(&server, RetryPolicy::default());

    let invoice = whmcs.invoice(30517).await.expect("invoice");
    assert_eq!((invoice.id, invoice.userid), (30517, 1842));
    assert_eq!(invoice.invoicenum, "2025-0317");
    assert_eq!(invoice.total, Decimal::new(2495, 2));
    assert_eq!(invoice.datepaid, None, "0000-00-00 is no date");
    assert_eq!(invoice.duedate, Some(jiff::civil::date(2025, 3, 8)));
    assert_eq!(invoice.items[0].kind, "Hosting");
    assert_eq!(invoice.items[0].relid, Some(7731));

    // A lone object is a list of one.
    let domain = whmcs
        .client_domain(1842, 912)
        .await
        .expect("domains")
        .expect("domain 912");
    assert_eq!(domain.domainname, "okafor-studio.example");

    let quote = whmcs.quote(88).await.expect("quotes").expect("quote 88");
    assert_eq!((quote.userid, quote.stage.as_str()), (1842, "Delivered"));
    assert_eq!(quote.total, Decimal::new(15000, 2));

    let product = whmcs
        .client_product(1842, 7731)
        .await
        .expect("products")
        .expect("service 7731");
    assert_eq!(product.billingcycle, "Monthly");
    assert_eq!(product.recurringamount, Decimal::new(2495, 2));
    assert_eq!(product.status, "Suspended");
    assert!(
        whmcs
            .client_product(1842, 1)
            .await
            .expect("products")
            .is_none(),
        "another service's row is not this one"
    );
    // Each call names the one record it reads: a client-wide listing
    // would stop at WHMCS's default page of 25.
    let bodies = request_bodies(&server).await;
    for (action, id) in [
        ("GetClientsProducts", "serviceid=7731"),
        ("GetClientsDomains", "domainid=912"),
        ("GetQuotes", "quoteid=88"),
        ("GetInvoice", "invoiceid=30517"),
    ] {
        assert!(
            bodies
                .iter()
                .any(|body| body.contains(&format!("action={action}")) && body.contains(id)),
            "{action} with {id}: {bodies:?}"
        );
    }
}

#[tokio::test]
async fn empty_lists_in_any_shape_are_empty() {
    for products in [
        serde_json::json!(""),
        serde_json::json!({}),
        serde_json::json!({"product": []}),
        serde_json::Value::Null,
    ] {
        let server = MockServer::start().await;
        api_call("GetClientsProducts")
            .respond_with(ResponseTemplate::new(200).set_body_json(
                serde_json::json!({"result": "success", "totalresults": "0", "products": products}),
            ))
            .mount(&server)
            .await;

        let found = client(&server, RetryPolicy::default())
            .client_product(1842, 7731)
            .await
            .expect("products");

        assert!(found.is_none(), "{products} gave {found:?}");
    }
}

#[tokio::test]
async fn result_error_is_a_refusal_when_whmcs_answers_with_a_2xx_or_4xx() {
    for status in [200, 400] {
        let server = MockServer::start().await;
        api_call("GetClientsDetails")
            .respond_with(ResponseTemplate::new(status).set_body_json(fixture("api-error")))
            .expect(1)
            .mount(&server)
            .await;

        let error = client(&server, quick_retries(3, Duration::from_secs(5)))
            .client_details(99)
            .await
            .expect_err("refused");

        assert_eq!(
            error,
            WhmcsError::Rejected {
                action: "GetClientsDetails".into(),
                message: "Client Not Found".into()
            }
        );
    }
}

#[tokio::test]
async fn a_5xx_or_429_is_an_outage_even_when_its_body_says_result_error() {
    for status in [500, 502, 503, 429] {
        let server = MockServer::start().await;
        api_call("ModuleTerminate")
            .respond_with(ResponseTemplate::new(status).set_body_json(
                serde_json::json!({"result": "error", "message": "SQLSTATE[HY000] [2002] Connection refused"}),
            ))
            .expect(2)
            .mount(&server)
            .await;

        let error = client(&server, quick_retries(2, Duration::from_secs(5)))
            .call("ModuleTerminate", &[("serviceid", "7731".to_owned())])
            .await
            .expect_err("unavailable");

        assert!(
            matches!(&error, WhmcsError::Unavailable { action, detail }
                if action == "ModuleTerminate" && detail.contains(&status.to_string())
                    && detail.contains("Connection refused")),
            "HTTP {status}: {error:?}"
        );
    }
}

#[tokio::test]
async fn a_403_is_a_configuration_error_and_is_not_retried() {
    let server = MockServer::start().await;
    api_call("GetInvoice")
        .respond_with(ResponseTemplate::new(403).set_body_json(
            serde_json::json!({"result": "error", "message": "Invalid IP 203.0.113.9"}),
        ))
        .expect(1)
        .mount(&server)
        .await;

    let error = client(&server, quick_retries(3, Duration::from_secs(5)))
        .invoice(1)
        .await
        .expect_err("forbidden");

    assert!(
        matches!(&error, WhmcsError::Forbidden { message, .. } if message == "Invalid IP 203.0.113.9")
    );
    let text = error.to_string();
    assert!(text.contains("access key") && text.contains("IP"), "{text}");
    assert!(!text.contains(API_SECRET));
}

#[tokio::test]
async fn transient_failures_are_retried_until_whmcs_answers() {
    let server = MockServer::start().await;
    api_call("GetInvoice")
        .respond_with(
            ResponseTemplate::new(503).set_body_string("<html>Service Unavailable</html>"),
        )
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    api_call("GetInvoice")
        .respond_with(ResponseTemplate::new(429))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    api_call("GetInvoice")
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("api-GetInvoice")))
        .expect(1)
        .mount(&server)
        .await;

    let invoice = client(&server, quick_retries(3, Duration::from_secs(5)))
        .invoice(30517)
        .await
        .expect("third try answers");

    assert_eq!(invoice.id, 30517);
}

#[tokio::test]
async fn a_whmcs_that_never_answers_in_time_is_unavailable_after_every_try() {
    let server = MockServer::start().await;
    api_call("GetQuotes")
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(2)))
        .expect(2)
        .mount(&server)
        .await;

    let error = client(&server, quick_retries(2, Duration::from_millis(100)))
        .quote(88)
        .await
        .expect_err("timed out");

    assert!(
        matches!(&error, WhmcsError::Unavailable { action, .. } if action == "GetQuotes"),
        "{error}"
    );
}

#[tokio::test]
async fn an_answer_that_is_not_the_api_is_not_retried() {
    let server = MockServer::start().await;
    api_call("GetClientsDetails")
        .respond_with(ResponseTemplate::new(200).set_body_string("<html>Please log in</html>"))
        .expect(1)
        .mount(&server)
        .await;

    let error = client(&server, quick_retries(3, Duration::from_secs(5)))
        .client_details(1842)
        .await
        .expect_err("not the API");

    assert!(
        matches!(&error, WhmcsError::InvalidResponse { detail, .. } if detail.contains("Please log in"))
    );
    assert!(!format!("{:?}", client(&server, RetryPolicy::default())).contains(API_SECRET));
}
