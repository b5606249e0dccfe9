//! The `cancellations` table on PostgreSQL: rows written in the reporting
//! event's transaction (a `CancellationRequest` hook, the client's request
//! on puente's page, an `AfterModuleTerminate`), the cancellation worker's
//! steps, and the admin API's list; see its SQLite twin for the rules each
//! statement keeps.

use std::collections::BTreeMap;

use deadpool_postgres::GenericClient;
use jiff::civil::Date;
use tokio_postgres::Row;

use super::messages;
use super::sql::{
    PgError, PgResult, RELEASE, RecordColumns, Value, holds, list_rows, record_statement, renew,
    sql_integer,
};
use super::tx::Tx;
use crate::domain::alerts::AlertKind;
use crate::domain::cancel::{self, CancelType, ClientRequest, Observed, RequestOrigin, Target};
use crate::domain::ids::InstanceName;
use crate::domain::plan::Plan;
use crate::store::Held;
use crate::store::RecordQuery;
use crate::store::Work;
use crate::store::cancellations::{
    OpenCancellation, StoredCancellation, requested_alert, service_alert,
};
use crate::store::messages::Retry;

use crate::domain::cancel::CancellationStatus as Status;

/// The statuses of a service's one open cancellation, as SQL (the same
/// text as the partial unique index `cancellations_one_open`).
const OPEN: super::sql::AnyStatus<Status> = super::sql::AnyStatus(Status::IN_FLIGHT);

/// The table of the cancellations' records; each row keeps the event that
/// planned it from retention (the record is the account's history).
pub(super) const TABLE: &str = "cancellations";

/// The cancellation rule's observations in an event's plan.
pub(super) fn planned(plan: &Plan) -> &[Observed] {
    &plan.cancellations
}

/// Records one observation of the event `event_seq`, waking the
/// cancellation worker when it has something new to do.
pub(super) async fn record(
    tx: &Tx<'_>,
    event_seq: i64,
    instance: &InstanceName,
    observed: &Observed,
    now: jiff::Timestamp,
) -> PgResult<()> {
    let now_ms = now.as_millisecond();
    let new_work = match observed {
        Observed::Requested {
            service_id,
            client_id,
            kind,
            reason,
            requested_on,
            origin,
        } => {
            let (origin, status) = match origin {
                RequestOrigin::ClientForm => ("whmcs_client_form", Status::Unconfirmed),
                RequestOrigin::Whmcs => ("whmcs", Status::Requested),
            };
            // A request made on WHMCS's own form waits for the client to
            // confirm it; any other is carried out on its date.
            let statement = tx
                .prepare_cached(&format!(
                    "INSERT INTO cancellations
                            (event_seq, instance, subject_kind, subject_id, client_id, cancel_type,
                             reason, origin, requested_at_ms, requested_on, status, updated_at_ms)
                     VALUES ($1, $2, 'service', $3, $4, $5, $6, $9, $7, $8, $10, $7)
                     ON CONFLICT (instance, subject_kind, subject_id) WHERE {OPEN} DO NOTHING"
                ))
                .await?;
            let added = tx
                .execute(
                    &statement,
                    &[
                        &event_seq,
                        &instance.as_str(),
                        &sql_integer(*service_id),
                        &sql_integer(*client_id),
                        &kind.as_str(),
                        reason,
                        &now_ms,
                        &requested_on.to_string(),
                        &origin,
                        &status.as_str(),
                    ],
                )
                .await?;
            added == 1
        }
        Observed::Accepted(request) => accepted(tx, event_seq, instance, request, now_ms).await?,
        Observed::Terminated { service_id, on } => {
            let statement = tx
                .prepare_cached(&format!(
                    "UPDATE cancellations
                        SET status = 'terminated', termination_date = $3, backup_retention_end = $4,
                            last_error = NULL, updated_at_ms = $5
                      WHERE instance = $1 AND subject_kind = 'service' AND subject_id = $2
                        AND ({OPEN})"
                ))
                .await?;
            tx.execute(
                &statement,
                &[
                    &instance.as_str(),
                    &sql_integer(*service_id),
                    &on.to_string(),
                    &cancel::backup_retention_end(*on).to_string(),
                    &now_ms,
                ],
            )
            .await?;
            false
        }
    };
    if new_work {
        tx.wake(Work::Cancellations);
    }
    Ok(())
}

/// The client's request on puente's page: a service's cancellation is
/// scheduled, a domain's renewal switched off. True when it leaves the
/// worker something new to do.
async fn accepted(
    tx: &Tx<'_>,
    event_seq: i64,
    instance: &InstanceName,
    request: &ClientRequest,
    now_ms: i64,
) -> PgResult<bool> {
    let invoices = invoices_column(&request.open_invoices)?;
    match request.target {
        Target::Service(service_id) => {
            // WHMCS's hook for puente's own AddCancelRequest may be stored
            // first, or the client may be confirming a request made on
            // WHMCS's own form: the client's request then completes that row.
            let statement = tx
                .prepare_cached(&format!(
                    "INSERT INTO cancellations
                            (event_seq, instance, subject_kind, subject_id, client_id, cancel_type,
                             reason, origin, reauthenticated, requested_at_ms, requested_on,
                             effective_date, open_invoices, status, updated_at_ms)
                     VALUES ($1, $2, 'service', $3, $4, $5, $6, 'client_page', TRUE, $7, $8, $9, $10,
                             'scheduled', $7)
                     ON CONFLICT (instance, subject_kind, subject_id) WHERE {OPEN}
                     DO UPDATE SET event_seq = excluded.event_seq, client_id = excluded.client_id,
                                   cancel_type = excluded.cancel_type, reason = excluded.reason,
                                   origin = 'client_page', reauthenticated = TRUE,
                                   effective_date = excluded.effective_date,
                                   open_invoices = excluded.open_invoices, status = 'scheduled',
                                   updated_at_ms = excluded.updated_at_ms
                     WHERE cancellations.status = 'requested' OR cancellations.status = 'unconfirmed'"
                ))
                .await?;
            let changed = tx
                .execute(
                    &statement,
                    &[
                        &event_seq,
                        &instance.as_str(),
                        &sql_integer(service_id),
                        &sql_integer(request.client_id),
                        &request.kind.map(CancelType::as_str),
                        &request.reason,
                        &now_ms,
                        &request.requested_on.to_string(),
                        &request.effective_date.map(|date| date.to_string()),
                        &invoices,
                    ],
                )
                .await?;
            Ok(changed == 1)
        }
        Target::Domain(domain_id) => {
            let statement = tx
                .prepare_cached(
                    "INSERT INTO cancellations
                            (event_seq, instance, subject_kind, subject_id, client_id, reason, origin,
                             reauthenticated, requested_at_ms, requested_on, open_invoices, status,
                             updated_at_ms)
                     VALUES ($1, $2, 'domain', $3, $4, $5, 'client_page', TRUE, $6, $7, $8,
                             'renewal_disabled', $6)",
                )
                .await?;
            tx.execute(
                &statement,
                &[
                    &event_seq,
                    &instance.as_str(),
                    &sql_integer(domain_id),
                    &sql_integer(request.client_id),
                    &request.reason,
                    &now_ms,
                    &request.requested_on.to_string(),
                    &invoices,
                ],
            )
            .await?;
            Ok(false)
        }
    }
}

/// Open invoices as the JSON text of `open_invoices`.
fn invoices_column(invoices: &[cancel::OpenInvoice]) -> PgResult<String> {
    serde_json::to_string(invoices)
        .map_err(|error| PgError::Data(format!("open invoices as JSON: {error}")))
}

/// The effective date recorded for cancellation `id`, if any.
pub async fn effective_date(client: &impl GenericClient, id: i64) -> PgResult<Option<Date>> {
    let statement = client
        .prepare_cached("SELECT effective_date FROM cancellations WHERE id = $1")
        .await?;
    let date: Option<String> = client.query_one(&statement, &[&id]).await?.try_get(0)?;
    Ok(date.and_then(|text| text.parse().ok()))
}

/// Every open cancellation of a service, oldest first, taken for `owner`.
pub async fn open(tx: &Tx<'_>, owner: &str) -> PgResult<Vec<OpenCancellation>> {
    let rows = super::sql::claim(
        &**tx,
        "cancellations",
        "(status = 'unconfirmed' OR status = 'requested' OR status = 'scheduled'
          OR status = 'terminating') AND subject_kind = 'service'",
        "id",
        None,
        "t.id, t.event_seq, t.instance, t.subject_id, t.client_id, t.cancel_type, t.status,
         t.requested_on, t.effective_date, t.attempts, t.requested_at_ms, t.lease_epoch",
        owner,
        &[],
    )
    .await?;
    let mut open = Vec::new();
    for row in rows {
        let kind: Option<String> = row.try_get(5)?;
        let status: String = row.try_get(6)?;
        let requested_on: String = row.try_get(7)?;
        let effective_date: Option<String> = row.try_get(8)?;
        let attempts: i64 = row.try_get(9)?;
        let attempts = u32::try_from(attempts).map_err(|_| {
            PgError::Data(format!("cancellations.attempts {attempts} is out of range"))
        })?;
        // A row this version cannot read is left for the administrator.
        let (Some(kind), Some(status), Ok(requested_on)) = (
            kind.as_deref().and_then(CancelType::parse),
            Status::parse(&status),
            requested_on.parse::<Date>(),
        ) else {
            continue;
        };
        open.push(OpenCancellation {
            id: row.try_get(0)?,
            lease: row.try_get(11)?,
            event_seq: row.try_get(1)?,
            instance: row.try_get(2)?,
            service_id: row.try_get::<_, i64>(3)?.unsigned_abs(),
            client_id: row.try_get::<_, i64>(4)?.unsigned_abs(),
            kind,
            status,
            requested_on,
            effective_date: effective_date.and_then(|date| date.parse().ok()),
            attempts,
            requested_at_ms: row.try_get(10)?,
        });
    }
    open.sort_by_key(|cancellation| cancellation.id);
    Ok(open)
}

/// The effective date is known: the cancellation is scheduled, and the
/// client's "cancellation requested" alert is planned with its type and
/// date. True when the alert was planned.
pub async fn mark_scheduled(
    tx: &Tx<'_>,
    owner: &str,
    cancellation: &OpenCancellation,
    effective_date: Date,
    open_invoices: &[cancel::OpenInvoice],
    now: jiff::Timestamp,
) -> PgResult<bool> {
    let invoices = invoices_column(open_invoices)?;
    let statement = tx
        .prepare_cached(&format!(
            "UPDATE cancellations
                SET status = 'scheduled', effective_date = $2, open_invoices = $3, last_error = NULL,
                    updated_at_ms = $4, {}
              WHERE id = $1 AND status = 'requested' AND {}",
            renew(),
            holds(5, 6)
        ))
        .await?;
    let changed = tx
        .execute(
            &statement,
            &[
                &cancellation.id,
                &effective_date.to_string(),
                &invoices,
                &now.as_millisecond(),
                &owner,
                &cancellation.lease,
            ],
        )
        .await?;
    if changed == 0 {
        return Ok(false);
    }
    plan_requested_alert(
        tx,
        cancellation.event_seq,
        &cancellation.instance,
        cancellation.client_id,
        cancellation.service_id,
        cancellation.kind,
        effective_date,
        now,
    )
    .await
}

/// The "cancellation requested" alert of a service's cancellation; one per
/// cancellation, whichever way it was recorded first.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn plan_requested_alert(
    tx: &Tx<'_>,
    event_seq: i64,
    instance: &str,
    client_id: u64,
    service_id: u64,
    kind: CancelType,
    effective_date: Date,
    now: jiff::Timestamp,
) -> PgResult<bool> {
    let alert = requested_alert(client_id, service_id, kind, effective_date);
    messages::plan(tx, event_seq, instance, &alert, now).await
}

/// Committed before puente asks WHMCS to terminate the service.
pub async fn mark_terminating(
    tx: &Tx<'_>,
    owner: &str,
    cancellation: Held,
    now: jiff::Timestamp,
) -> PgResult<bool> {
    let statement = tx
        .prepare_cached(&format!(
            "UPDATE cancellations SET status = 'terminating', attempts = attempts + 1, updated_at_ms = $2,
                    {}
              WHERE id = $1 AND (status = 'scheduled' OR status = 'terminating') AND {}",
            renew(),
            holds(3, 4)
        ))
        .await?;
    let changed = tx
        .execute(
            &statement,
            &[
                &cancellation.id,
                &now.as_millisecond(),
                &owner,
                &cancellation.epoch,
            ],
        )
        .await?;
    Ok(changed == 1)
}

/// The service is terminated (by puente's call or by WHMCS). With
/// `alert`, puente set the status itself (a service without a provisioning
/// module: WHMCS fires no AfterModuleTerminate), so it plans the
/// "service terminated" alert. True when that alert was planned.
pub async fn mark_terminated(
    tx: &Tx<'_>,
    owner: &str,
    cancellation: &OpenCancellation,
    on: Date,
    alert: bool,
    now: jiff::Timestamp,
) -> PgResult<bool> {
    let statement = tx
        .prepare_cached(&format!(
            "UPDATE cancellations
                SET status = 'terminated', termination_date = $2, backup_retention_end = $3,
                    last_error = NULL, updated_at_ms = $4, {RELEASE}
              WHERE id = $1 AND ({OPEN}) AND {}",
            holds(5, 6)
        ))
        .await?;
    let changed = tx
        .execute(
            &statement,
            &[
                &cancellation.id,
                &on.to_string(),
                &cancel::backup_retention_end(on).to_string(),
                &now.as_millisecond(),
                &owner,
                &cancellation.lease,
            ],
        )
        .await?;
    if changed == 0 || !alert {
        return Ok(false);
    }
    let alert = service_alert(
        AlertKind::ServiceTerminated,
        cancellation.client_id,
        cancellation.service_id,
        format!(
            "service_terminated:{}:cancellation",
            cancellation.service_id
        ),
        BTreeMap::new(),
    );
    messages::plan(
        tx,
        cancellation.event_seq,
        &cancellation.instance,
        &alert,
        now,
    )
    .await
}

/// Not done yet (WHMCS unreachable): back to where the next pass takes it,
/// with why.
pub async fn mark_retry(
    tx: &Tx<'_>,
    owner: &str,
    cancellation: Held,
    error: &str,
    now: jiff::Timestamp,
) -> PgResult<()> {
    let statement = tx
        .prepare_cached(&format!(
            "UPDATE cancellations
                SET status = CASE status WHEN 'terminating' THEN 'scheduled' ELSE status END,
                    last_error = $2, updated_at_ms = $3, {RELEASE}
              WHERE id = $1 AND (status = 'unconfirmed' OR status = 'requested' OR status = 'scheduled'
                                 OR status = 'terminating') AND {}",
            holds(4, 5)
        ))
        .await?;
    tx.execute(
        &statement,
        &[
            &cancellation.id,
            &error,
            &now.as_millisecond(),
            &owner,
            &cancellation.epoch,
        ],
    )
    .await?;
    Ok(())
}

/// WHMCS refused: kept, with why, for the administrator.
pub async fn mark_failed(
    tx: &Tx<'_>,
    owner: &str,
    cancellation: Held,
    error: &str,
    now: jiff::Timestamp,
) -> PgResult<()> {
    let statement = tx
        .prepare_cached(&format!(
            "UPDATE cancellations SET status = 'failed', last_error = $2, updated_at_ms = $3, {RELEASE}
              WHERE id = $1 AND (status = 'requested' OR status = 'scheduled' OR status = 'terminating')
                AND {}",
            holds(4, 5)
        ))
        .await?;
    tx.execute(
        &statement,
        &[
            &cancellation.id,
            &error,
            &now.as_millisecond(),
            &owner,
            &cancellation.epoch,
        ],
    )
    .await?;
    Ok(())
}

/// WHMCS no longer holds the request (staff deleted it): it is never
/// carried out. True when the row was still open.
pub async fn mark_withdrawn(
    tx: &Tx<'_>,
    owner: &str,
    cancellation: Held,
    why: &str,
    now: jiff::Timestamp,
) -> PgResult<bool> {
    let statement = tx
        .prepare_cached(&format!(
            "UPDATE cancellations SET status = 'withdrawn', last_error = $2, updated_at_ms = $3, {RELEASE}
              WHERE id = $1 AND (status = 'unconfirmed' OR status = 'requested' OR status = 'scheduled'
                                 OR status = 'terminating') AND {}",
            holds(4, 5)
        ))
        .await?;
    let changed = tx
        .execute(
            &statement,
            &[
                &cancellation.id,
                &why,
                &now.as_millisecond(),
                &owner,
                &cancellation.epoch,
            ],
        )
        .await?;
    Ok(changed == 1)
}

/// Plans a failed cancellation again once the administrator fixed what
/// WHMCS refused; `None` when there is no such row.
pub async fn retry(tx: &Tx<'_>, id: i64, now: jiff::Timestamp) -> PgResult<Option<Retry>> {
    let statement = tx
        .prepare_cached("SELECT status, effective_date FROM cancellations WHERE id = $1")
        .await?;
    let Some(row) = tx.query_opt(&statement, &[&id]).await? else {
        return Ok(None);
    };
    let status: String = row.try_get(0)?;
    let effective_date: Option<String> = row.try_get(1)?;
    if Status::parse(&status) != Some(Status::Failed) {
        return Ok(Some(Retry::NotRetryable(status)));
    }
    let back_to = if effective_date.is_some() {
        Status::Scheduled
    } else {
        Status::Requested
    };
    let statement = tx
        .prepare_cached(
            "UPDATE cancellations SET status = $2, last_error = 'retried by an operator', updated_at_ms = $3,
                    lease_owner = NULL, lease_expires_at_ms = NULL
              WHERE id = $1",
        )
        .await?;
    tx.execute(&statement, &[&id, &back_to.as_str(), &now.as_millisecond()])
        .await?;
    tx.wake(Work::Cancellations);
    Ok(Some(Retry::Planned))
}

const STORED: &str = "SELECT c.id, e.id, c.instance, c.subject_kind, c.subject_id, c.client_id,
            c.cancel_type, c.reason, c.origin, c.reauthenticated, c.requested_at_ms,
            c.requested_on, c.effective_date, c.open_invoices, c.status, c.attempts,
            c.last_error, c.termination_date, c.backup_retention_end
       FROM cancellations c JOIN events e ON e.seq = c.event_seq";

fn stored_from_row(row: &Row) -> PgResult<StoredCancellation> {
    let requested_at: i64 = row.try_get(10)?;
    let invoices: Option<String> = row.try_get(13)?;
    Ok(StoredCancellation {
        id: row.try_get(0)?,
        event_id: row.try_get(1)?,
        instance: row.try_get(2)?,
        subject_kind: row.try_get(3)?,
        subject_id: row.try_get(4)?,
        client_id: row.try_get(5)?,
        cancel_type: row.try_get(6)?,
        reason: row.try_get(7)?,
        origin: row.try_get(8)?,
        reauthenticated: row.try_get(9)?,
        requested_at: jiff::Timestamp::from_millisecond(requested_at)
            .map(|at| at.to_string())
            .unwrap_or_default(),
        requested_on: row.try_get(11)?,
        effective_date: row.try_get(12)?,
        open_invoices: invoices
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or_else(|| serde_json::json!([])),
        status: row.try_get(14)?,
        attempts: row.try_get(15)?,
        last_error: row.try_get(16)?,
        termination_date: row.try_get(17)?,
        backup_retention_end: row.try_get(18)?,
    })
}

/// The first row of `sql` with `instance` and `target` as `$1`, `$2`
/// (its kind) and `$3` (its id), if any.
async fn one_stored(
    client: &impl GenericClient,
    sql: &str,
    instance: &str,
    target: Target,
) -> PgResult<Option<StoredCancellation>> {
    let (kind, id) = target.columns();
    let statement = client.prepare_cached(sql).await?;
    client
        .query_opt(&statement, &[&instance, &kind, &sql_integer(id)])
        .await?
        .as_ref()
        .map(stored_from_row)
        .transpose()
}

/// The open cancellation of a service, or the newest record of a domain's
/// renewal being switched off.
pub async fn current(
    client: &impl GenericClient,
    instance: &str,
    target: Target,
) -> PgResult<Option<StoredCancellation>> {
    // `status` of the cancellation, not of its event.
    let condition = match target {
        Target::Service(_) => OPEN.to_string().replace("status", "c.status"),
        Target::Domain(_) => "c.status = 'renewal_disabled'".to_owned(),
    };
    let sql = format!(
        "{STORED} WHERE c.instance = $1 AND c.subject_kind = $2 AND c.subject_id = $3
                  AND ({condition}) ORDER BY c.id DESC LIMIT 1"
    );
    one_stored(client, &sql, instance, target).await
}

/// The newest cancellation of a service or domain, whatever its status.
pub async fn latest(
    client: &impl GenericClient,
    instance: &str,
    target: Target,
) -> PgResult<Option<StoredCancellation>> {
    let sql = format!(
        "{STORED} WHERE c.instance = $1 AND c.subject_kind = $2 AND c.subject_id = $3
         ORDER BY c.id DESC LIMIT 1"
    );
    one_stored(client, &sql, instance, target).await
}

/// The cancellation a client's request (its event) recorded or completed.
pub async fn by_event(
    client: &impl GenericClient,
    event_id: &str,
) -> PgResult<Option<StoredCancellation>> {
    let statement = client
        .prepare_cached(&format!(
            "{STORED} WHERE e.id = $1 ORDER BY c.id DESC LIMIT 1"
        ))
        .await?;
    client
        .query_opt(&statement, &[&event_id])
        .await?
        .as_ref()
        .map(stored_from_row)
        .transpose()
}

/// The open cancellation that may hold a service's termination by WHMCS:
/// one the client has not confirmed, or a scheduled one with its type and
/// effective date.
pub async fn holding(
    client: &impl GenericClient,
    instance: &str,
    service_id: u64,
) -> PgResult<Option<cancel::Pending>> {
    let statement = client
        .prepare_cached(
            "SELECT status, cancel_type, effective_date FROM cancellations
              WHERE instance = $1 AND subject_kind = 'service' AND subject_id = $2
                AND (status = 'unconfirmed'
                     OR (status = 'scheduled' AND effective_date IS NOT NULL))",
        )
        .await?;
    let found: Option<(String, String, Option<String>)> = match client
        .query_opt(&statement, &[&instance, &sql_integer(service_id)])
        .await?
    {
        Some(row) => Some((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?)),
        None => None,
    };
    Ok(
        found.and_then(|(status, kind, date)| match Status::parse(&status)? {
            Status::Unconfirmed => Some(cancel::Pending::Unconfirmed),
            _ => Some(cancel::Pending::Scheduled {
                kind: CancelType::parse(&kind)?,
                effective_date: date?.parse().ok()?,
            }),
        }),
    )
}

/// The statement [`list`] runs, and its parameters.
pub(crate) fn list_statement(query: &RecordQuery) -> (String, Vec<Value>) {
    record_statement(
        query,
        STORED,
        &RecordColumns {
            alias: "c.",
            service: "c.subject_kind = 'service' AND c.subject_id =",
        },
    )
}

/// Cancellations in the order they were recorded.
pub async fn list(
    client: &impl GenericClient,
    query: &RecordQuery,
) -> PgResult<Vec<StoredCancellation>> {
    list_rows(client, list_statement(query), stored_from_row).await
}
