//! `GET /v1/admin/events[/{id}]`: bearer auth, filters and paging.

use reqwest::StatusCode;
use serde_json::Value;

use crate::support::*;

#[tokio::test]
async fn the_admin_api_does_not_exist_without_a_token() {
    let app = spawn_app_with(&[], "").await;
    for path in ["/v1/admin/events", "/v1/admin/events/evt_1"] {
        let response = app
            .client
            .get(app.url(path))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .expect("sent");
        assert_error(response, StatusCode::NOT_FOUND, "not_found").await;
    }
    app.stop().await;
}

#[tokio::test]
async fn the_admin_api_needs_the_exact_bearer_token() {
    let app = spawn_app().await;
    let url = app.url("/v1/admin/events");
    let attempts = [
        app.client.get(&url),
        app.client.get(&url).bearer_auth("wrong-token-0123456789"),
        app.client
            .get(&url)
            .bearer_auth(&ADMIN_TOKEN[..ADMIN_TOKEN.len() - 1]),
        app.client
            .get(&url)
            .header("authorization", format!("Basic {ADMIN_TOKEN}")),
    ];
    for attempt in attempts {
        let response = attempt.send().await.expect("sent");
        assert_eq!(
            response
                .headers()
                .get("www-authenticate")
                .map(|v| v.as_bytes()),
            Some(&b"Bearer"[..])
        );
        assert_error(response, StatusCode::UNAUTHORIZED, "unauthorized").await;
    }
    json_of(app.admin_get("/v1/admin/events").await, StatusCode::OK).await;
    app.stop().await;
}

async fn ids(app: &TestApp, query: &str) -> (Vec<String>, Value) {
    let page = json_of(
        app.admin_get(&format!("/v1/admin/events{query}")).await,
        StatusCode::OK,
    )
    .await;
    let ids = page["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|event| event["id"].as_str().expect("id").to_owned())
        .collect();
    (ids, page["next_cursor"].clone())
}

#[tokio::test]
async fn events_are_listed_in_arrival_order_filtered_and_paged() {
    let app = spawn_app().await;
    for (id, hook) in [
        ("evt_a", "InvoicePaid"),
        ("evt_b", "ClientAdd"),
        ("evt_c", "InvoicePaid"),
        ("evt_d", "InvoicePaid"),
    ] {
        json_of(
            app.send_event(id, &envelope(hook)).await,
            StatusCode::ACCEPTED,
        )
        .await;
    }
    let (all, cursor) = ids(&app, "").await;
    assert_eq!(all, ["evt_a", "evt_b", "evt_c", "evt_d"]);
    assert_eq!(cursor, Value::Null);

    let (paid, _) = ids(&app, "?type=InvoicePaid").await;
    assert_eq!(paid, ["evt_a", "evt_c", "evt_d"]);
    let (first_page, cursor) = ids(&app, "?type=InvoicePaid&limit=2").await;
    assert_eq!(first_page, ["evt_a", "evt_c"]);
    let cursor = cursor
        .as_str()
        .expect("a cursor while more may follow")
        .to_owned();
    let (second_page, last) =
        ids(&app, &format!("?type=InvoicePaid&limit=2&cursor={cursor}")).await;
    assert_eq!(second_page, ["evt_d"]);
    assert_eq!(last, Value::Null);

    let (default_instance, _) = ids(&app, "?instance=default").await;
    assert_eq!(default_instance.len(), 4);
    let (other_instance, _) = ids(&app, "?instance=reseller").await;
    assert!(other_instance.is_empty());
    let (since_past, _) = ids(&app, "?since=2020-01-01T00:00:00Z").await;
    assert_eq!(since_past.len(), 4);
    let (since_future, _) = ids(&app, "?since=2100-01-01T00:00:00Z").await;
    assert!(since_future.is_empty());
    app.stop().await;
}

#[tokio::test]
async fn bad_queries_are_400_and_unknown_ids_404() {
    let app = spawn_app().await;
    for query in [
        "?limit=0",
        "?limit=5000",
        "?limit=ten",
        "?since=yesterday",
        "?cursor=abc",
        "?type=Invoice%20Paid",
        "?colour=red",
    ] {
        let response = app.admin_get(&format!("/v1/admin/events{query}")).await;
        assert_error(response, StatusCode::BAD_REQUEST, "invalid_query").await;
    }
    for id in ["evt_missing", "evt.bad"] {
        let response = app.admin_get(&format!("/v1/admin/events/{id}")).await;
        assert_error(response, StatusCode::NOT_FOUND, "not_found").await;
    }
    app.stop().await;
}
