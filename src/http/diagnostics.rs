//! `POST /v1/diagnostics`: the addon's Diagnostics tab. The addon sends its
//! own rows, signed, from the admin area; the service runs its checks (the
//! WHMCS API with its credentials, `action.php` called back, clocks, time
//! zones, hooks received), keeps the whole report for the dashboard, and
//! answers its rows. The signed request itself is the round trip the report
//! needs; nothing changes in WHMCS.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use super::error::ApiError;
use super::signed;
use crate::diagnostics::{self, Reach};
use crate::domain::diagnostics::{AddonFacts, Row, Verdict};
use crate::domain::envelope::ActorKind;
use crate::http::state::AppState;
use crate::store::diagnostics::NewReport;

#[derive(Deserialize)]
struct DiagnosticsRequest {
    data: DiagnosticsData,
}

#[derive(Deserialize)]
struct DiagnosticsData {
    addon: AddonFacts,
    /// The addon's own rows.
    #[serde(default)]
    rows: Vec<Row>,
}

/// Most rows a report keeps from the addon.
const MAX_ROWS: usize = 200;

pub async fn run(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let event = signed::verify(&request, payload, &state)
        .await?
        .into_event()?;
    if event.envelope.context.actor.kind != ActorKind::Admin {
        return Err(ApiError::forbidden(
            "actor_not_admin",
            "diagnostics are run from the addon's admin page",
        ));
    }
    let data = serde_json::from_slice::<DiagnosticsRequest>(&event.body)
        .map_err(|error| {
            ApiError::InvalidEnvelope(format!("data is not a diagnostics report: {error}"))
        })?
        .data;
    if data.rows.len() > MAX_ROWS {
        return Err(ApiError::InvalidEnvelope(format!(
            "data.rows has more than {MAX_ROWS} rows"
        )));
    }
    let instance = event.instance.clone();
    let seen = state
        .store
        .hooks_seen(instance.clone(), data.addon.hooks.clone())
        .await?;
    let timezone = state.timezone_of(&instance);
    let (api, action_php) = state.links_of(&instance);
    let reach = Reach {
        instance: &instance,
        api,
        addon: action_php,
        timezone: &timezone,
    };
    let now = jiff::Timestamp::now();
    let mut ours = vec![Row::new(
        "service",
        "puente service",
        Verdict::Pass,
        format!(
            "the addon's signed request arrived as instance {instance} (service {})",
            env!("CARGO_PKG_VERSION")
        ),
        "",
    )];
    ours.extend(diagnostics::rows(&reach, &data.addon, &seen, now).await);
    let mut all = data.rows;
    all.extend(ours.iter().cloned());
    let addon = data.addon;
    state
        .store
        .keep_report(NewReport {
            instance: instance.as_str().to_owned(),
            at: now,
            addon_version: addon.version,
            whmcs_version: addon.whmcs,
            php_version: addon.php,
            rows: all,
        })
        .await?;
    tracing::info!(instance = %instance, "diagnostics report kept");
    Ok(HttpResponse::Ok().json(json!({ "rows": ours })))
}
