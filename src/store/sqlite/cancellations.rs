//! The `cancellations` table: rows written in the reporting event's
//! transaction (a `CancellationRequest` hook, the client's request on
//! puente's page, an `AfterModuleTerminate`), the cancellation worker's
//! steps, and the admin API's list.

use std::collections::BTreeMap;

use jiff::civil::Date;
use rusqlite::{CachedStatement, Connection, OptionalExtension, Row, Transaction, params};

use super::messages;
use super::rows::RuleRows;
use super::sql::{RecordColumns, list_rows, sql_integer};
use super::tx::Tx;
use crate::domain::alerts::AlertKind;
use crate::domain::cancel::{self, CancelType, ClientRequest, Observed, RequestOrigin, Target};
use crate::domain::ids::InstanceName;
use crate::domain::plan::Plan;
use crate::store::RecordQuery;
use crate::store::Work;
use crate::store::cancellations::{
    OpenCancellation, StoredCancellation, requested_alert, service_alert,
};
use crate::store::messages::Retry;

use crate::domain::cancel::CancellationStatus as Status;

/// The statuses of a service's one open cancellation, as SQL (the same
/// text as the partial unique index of migration 0014).
const OPEN: super::sql::AnyStatus<Status> = super::sql::AnyStatus(Status::IN_FLIGHT);

/// The statements that record what an event tells the rule.
pub(super) struct CancellationRows<'t> {
    requested: CachedStatement<'t>,
    accepted: CachedStatement<'t>,
    renewal_disabled: CachedStatement<'t>,
    terminated: CachedStatement<'t>,
}

impl<'t> RuleRows<'t> for CancellationRows<'t> {
    type Item = Observed;
    const TABLE: &'static str = "cancellations";

    fn planned(plan: &Plan) -> &[Observed] {
        &plan.cancellations
    }

    fn prepare(transaction: &'t Transaction<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            // A request made on WHMCS's own form waits for the client to
            // confirm it; any other is carried out on its date.
            requested: transaction.prepare_cached(&format!(
                "INSERT INTO cancellations
                        (event_seq, instance, subject_kind, subject_id, client_id, cancel_type,
                         reason, origin, requested_at_ms, requested_on, status, updated_at_ms)
                 VALUES (?1, ?2, 'service', ?3, ?4, ?5, ?6, ?9, ?7, ?8, ?10, ?7)
                 ON CONFLICT (instance, subject_kind, subject_id) WHERE {OPEN} DO NOTHING"
            ))?,
            // WHMCS's hook for puente's own AddCancelRequest may be stored
            // first, or the client may be confirming a request made on
            // WHMCS's own form: the client's request then completes that row.
            accepted: transaction.prepare_cached(&format!(
                "INSERT INTO cancellations
                        (event_seq, instance, subject_kind, subject_id, client_id, cancel_type,
                         reason, origin, reauthenticated, requested_at_ms, requested_on,
                         effective_date, open_invoices, status, updated_at_ms)
                 VALUES (?1, ?2, 'service', ?3, ?4, ?5, ?6, 'client_page', 1, ?7, ?8, ?9, ?10,
                         'scheduled', ?7)
                 ON CONFLICT (instance, subject_kind, subject_id) WHERE {OPEN}
                 DO UPDATE SET event_seq = excluded.event_seq, client_id = excluded.client_id,
                               cancel_type = excluded.cancel_type, reason = excluded.reason,
                               origin = 'client_page', reauthenticated = 1,
                               effective_date = excluded.effective_date,
                               open_invoices = excluded.open_invoices, status = 'scheduled',
                               updated_at_ms = excluded.updated_at_ms
                 WHERE cancellations.status = 'requested' OR cancellations.status = 'unconfirmed'"
            ))?,
            renewal_disabled: transaction.prepare_cached(
                "INSERT INTO cancellations
                        (event_seq, instance, subject_kind, subject_id, client_id, reason, origin,
                         reauthenticated, requested_at_ms, requested_on, open_invoices, status,
                         updated_at_ms)
                 VALUES (?1, ?2, 'domain', ?3, ?4, ?5, 'client_page', 1, ?6, ?7, ?8,
                         'renewal_disabled', ?6)",
            )?,
            terminated: transaction.prepare_cached(&format!(
                "UPDATE cancellations
                    SET status = 'terminated', termination_date = ?3, backup_retention_end = ?4,
                        last_error = NULL, updated_at_ms = ?5
                  WHERE instance = ?1 AND subject_kind = 'service' AND subject_id = ?2 AND ({OPEN})"
            ))?,
        })
    }

    /// Records one observation of the event `event_seq`, waking the
    /// cancellation worker when it has something new to do.
    fn run(
        &mut self,
        tx: &Tx<'_>,
        event_seq: i64,
        instance: &InstanceName,
        observed: &Observed,
        now: jiff::Timestamp,
    ) -> rusqlite::Result<()> {
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
                let added = self.requested.execute(params![
                    event_seq,
                    instance.as_str(),
                    sql_integer(*service_id),
                    sql_integer(*client_id),
                    kind.as_str(),
                    reason,
                    now_ms,
                    requested_on.to_string(),
                    origin,
                    status.as_str(),
                ])?;
                added == 1
            }
            Observed::Accepted(request) => self.accepted(event_seq, instance, request, now_ms)?,
            Observed::Terminated { service_id, on } => {
                self.terminated.execute(params![
                    instance.as_str(),
                    sql_integer(*service_id),
                    on.to_string(),
                    cancel::backup_retention_end(*on).to_string(),
                    now_ms,
                ])?;
                false
            }
        };
        if new_work {
            tx.wake(Work::Cancellations);
        }
        Ok(())
    }
}

impl CancellationRows<'_> {
    fn accepted(
        &mut self,
        event_seq: i64,
        instance: &InstanceName,
        request: &ClientRequest,
        now_ms: i64,
    ) -> rusqlite::Result<bool> {
        let invoices = serde_json::to_string(&request.open_invoices)
            .map_err(|error| rusqlite::Error::ToSqlConversionFailure(Box::new(error)))?;
        match request.target {
            Target::Service(service_id) => {
                let changed = self.accepted.execute(params![
                    event_seq,
                    instance.as_str(),
                    sql_integer(service_id),
                    sql_integer(request.client_id),
                    request.kind.map(CancelType::as_str),
                    request.reason,
                    now_ms,
                    request.requested_on.to_string(),
                    request.effective_date.map(|date| date.to_string()),
                    invoices,
                ])?;
                Ok(changed == 1)
            }
            Target::Domain(domain_id) => {
                self.renewal_disabled.execute(params![
                    event_seq,
                    instance.as_str(),
                    sql_integer(domain_id),
                    sql_integer(request.client_id),
                    request.reason,
                    now_ms,
                    request.requested_on.to_string(),
                    invoices,
                ])?;
                Ok(false)
            }
        }
    }
}

/// The effective date recorded for cancellation `id`, if any.
pub fn effective_date(connection: &Connection, id: i64) -> rusqlite::Result<Option<Date>> {
    let date: Option<String> = connection.query_row(
        "SELECT effective_date FROM cancellations WHERE id = ?1",
        [id],
        |row| row.get(0),
    )?;
    Ok(date.and_then(|text| text.parse().ok()))
}

/// Every open cancellation of a service, oldest first.
pub fn open(connection: &Connection) -> rusqlite::Result<Vec<OpenCancellation>> {
    let mut statement = connection.prepare_cached(
        "SELECT id, event_seq, instance, subject_id, client_id, cancel_type, status, requested_on,
                effective_date, attempts, requested_at_ms
           FROM cancellations
          WHERE (status = 'unconfirmed' OR status = 'requested' OR status = 'scheduled'
                 OR status = 'terminating')
            AND subject_kind = 'service'
          ORDER BY id",
    )?;
    let rows = statement.query_map([], |row| {
        let kind: Option<String> = row.get(5)?;
        let status: String = row.get(6)?;
        let requested_on: String = row.get(7)?;
        let effective_date: Option<String> = row.get(8)?;
        Ok((
            kind.as_deref().and_then(CancelType::parse),
            Status::parse(&status),
            requested_on.parse::<Date>().ok(),
            OpenCancellation {
                id: row.get(0)?,
                lease: 0,
                event_seq: row.get(1)?,
                instance: row.get(2)?,
                service_id: row.get::<_, i64>(3)?.unsigned_abs(),
                client_id: row.get::<_, i64>(4)?.unsigned_abs(),
                kind: CancelType::Immediate,
                status: Status::Requested,
                requested_on: Date::default(),
                effective_date: effective_date.and_then(|date| date.parse().ok()),
                attempts: row.get(9)?,
                requested_at_ms: row.get(10)?,
            },
        ))
    })?;
    let mut open = Vec::new();
    for row in rows {
        // A row this version cannot read is left for the administrator.
        if let (Some(kind), Some(status), Some(requested_on), cancellation) = row? {
            open.push(OpenCancellation {
                kind,
                status,
                requested_on,
                ..cancellation
            });
        }
    }
    Ok(open)
}

/// The effective date is known: the cancellation is scheduled, and the
/// client's "cancellation requested" alert is planned with its type and
/// date. True when the alert was planned.
pub fn mark_scheduled(
    tx: &Tx<'_>,
    cancellation: &OpenCancellation,
    effective_date: Date,
    open_invoices: &[cancel::OpenInvoice],
    now: jiff::Timestamp,
) -> rusqlite::Result<bool> {
    let invoices = serde_json::to_string(open_invoices)
        .map_err(|error| rusqlite::Error::ToSqlConversionFailure(Box::new(error)))?;
    let changed = tx.execute(
        "UPDATE cancellations
            SET status = 'scheduled', effective_date = ?2, open_invoices = ?3, last_error = NULL,
                updated_at_ms = ?4
          WHERE id = ?1 AND status = 'requested'",
        params![
            cancellation.id,
            effective_date.to_string(),
            invoices,
            now.as_millisecond()
        ],
    )?;
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
}

/// The "cancellation requested" alert of a service's cancellation; one per
/// cancellation, whichever way it was recorded first.
#[allow(clippy::too_many_arguments)]
pub(crate) fn plan_requested_alert(
    tx: &Tx<'_>,
    event_seq: i64,
    instance: &str,
    client_id: u64,
    service_id: u64,
    kind: CancelType,
    effective_date: Date,
    now: jiff::Timestamp,
) -> rusqlite::Result<bool> {
    let alert = requested_alert(client_id, service_id, kind, effective_date);
    messages::plan(tx, event_seq, instance, &alert, now)
}

/// Committed before puente asks WHMCS to terminate the service.
pub fn mark_terminating(
    connection: &Connection,
    id: i64,
    now: jiff::Timestamp,
) -> rusqlite::Result<bool> {
    let changed = connection.execute(
        "UPDATE cancellations SET status = 'terminating', attempts = attempts + 1, updated_at_ms = ?2
          WHERE id = ?1 AND (status = 'scheduled' OR status = 'terminating')",
        params![id, now.as_millisecond()],
    )?;
    Ok(changed == 1)
}

/// The service is terminated (by puente's call or by WHMCS). With
/// `alert`, puente set the status itself (a service without a provisioning
/// module: WHMCS fires no AfterModuleTerminate), so it plans the
/// "service terminated" alert. True when that alert was planned.
pub fn mark_terminated(
    tx: &Tx<'_>,
    cancellation: &OpenCancellation,
    on: Date,
    alert: bool,
    now: jiff::Timestamp,
) -> rusqlite::Result<bool> {
    let changed = tx.execute(
        &format!(
            "UPDATE cancellations
                SET status = 'terminated', termination_date = ?2, backup_retention_end = ?3,
                    last_error = NULL, updated_at_ms = ?4
              WHERE id = ?1 AND ({OPEN})"
        ),
        params![
            cancellation.id,
            on.to_string(),
            cancel::backup_retention_end(on).to_string(),
            now.as_millisecond()
        ],
    )?;
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
}

/// Not done yet (WHMCS unreachable): back to where the next pass takes it,
/// with why.
pub fn mark_retry(
    connection: &Connection,
    id: i64,
    error: &str,
    now: jiff::Timestamp,
) -> rusqlite::Result<()> {
    connection.execute(
        "UPDATE cancellations
            SET status = CASE status WHEN 'terminating' THEN 'scheduled' ELSE status END,
                last_error = ?2, updated_at_ms = ?3
          WHERE id = ?1 AND (status = 'unconfirmed' OR status = 'requested' OR status = 'scheduled'
                             OR status = 'terminating')",
        params![id, error, now.as_millisecond()],
    )?;
    Ok(())
}

/// WHMCS refused: kept, with why, for the administrator.
pub fn mark_failed(
    connection: &Connection,
    id: i64,
    error: &str,
    now: jiff::Timestamp,
) -> rusqlite::Result<()> {
    connection.execute(
        "UPDATE cancellations SET status = 'failed', last_error = ?2, updated_at_ms = ?3
          WHERE id = ?1 AND (status = 'requested' OR status = 'scheduled' OR status = 'terminating')",
        params![id, error, now.as_millisecond()],
    )?;
    Ok(())
}

/// WHMCS no longer holds the request (staff deleted it): it is never
/// carried out. True when the row was still open.
pub fn mark_withdrawn(
    connection: &Connection,
    id: i64,
    why: &str,
    now: jiff::Timestamp,
) -> rusqlite::Result<bool> {
    let changed = connection.execute(
        "UPDATE cancellations SET status = 'withdrawn', last_error = ?2, updated_at_ms = ?3
          WHERE id = ?1 AND (status = 'unconfirmed' OR status = 'requested' OR status = 'scheduled'
                             OR status = 'terminating')",
        params![id, why, now.as_millisecond()],
    )?;
    Ok(changed == 1)
}

/// Plans a failed cancellation again once the administrator fixed what
/// WHMCS refused; `None` when there is no such row.
pub fn retry(tx: &Tx<'_>, id: i64, now: jiff::Timestamp) -> rusqlite::Result<Option<Retry>> {
    let found: Option<(String, Option<String>)> = tx
        .query_row(
            "SELECT status, effective_date FROM cancellations WHERE id = ?1",
            [id],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    let Some((status, effective_date)) = found else {
        return Ok(None);
    };
    if Status::parse(&status) != Some(Status::Failed) {
        return Ok(Some(Retry::NotRetryable(status)));
    }
    let back_to = if effective_date.is_some() {
        Status::Scheduled
    } else {
        Status::Requested
    };
    tx.execute(
        "UPDATE cancellations SET status = ?2, last_error = 'retried by an operator', updated_at_ms = ?3
          WHERE id = ?1",
        params![id, back_to.as_str(), now.as_millisecond()],
    )?;
    tx.wake(Work::Cancellations);
    Ok(Some(Retry::Planned))
}

const STORED: &str = "SELECT c.id, e.id, c.instance, c.subject_kind, c.subject_id, c.client_id,
            c.cancel_type, c.reason, c.origin, c.reauthenticated, c.requested_at_ms,
            c.requested_on, c.effective_date, c.open_invoices, c.status, c.attempts,
            c.last_error, c.termination_date, c.backup_retention_end
       FROM cancellations c JOIN events e ON e.seq = c.event_seq";

fn stored_from_row(row: &Row<'_>) -> rusqlite::Result<StoredCancellation> {
    let requested_at: i64 = row.get(10)?;
    let invoices: Option<String> = row.get(13)?;
    Ok(StoredCancellation {
        id: row.get(0)?,
        event_id: row.get(1)?,
        instance: row.get(2)?,
        subject_kind: row.get(3)?,
        subject_id: row.get(4)?,
        client_id: row.get(5)?,
        cancel_type: row.get(6)?,
        reason: row.get(7)?,
        origin: row.get(8)?,
        reauthenticated: row.get(9)?,
        requested_at: jiff::Timestamp::from_millisecond(requested_at)
            .map(|at| at.to_string())
            .unwrap_or_default(),
        requested_on: row.get(11)?,
        effective_date: row.get(12)?,
        open_invoices: invoices
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or_else(|| serde_json::json!([])),
        status: row.get(14)?,
        attempts: row.get(15)?,
        last_error: row.get(16)?,
        termination_date: row.get(17)?,
        backup_retention_end: row.get(18)?,
    })
}

/// The open cancellation of a service, or the newest record of a domain's
/// renewal being switched off.
pub fn current(
    connection: &Connection,
    instance: &str,
    target: Target,
) -> rusqlite::Result<Option<StoredCancellation>> {
    let (kind, id) = target.columns();
    // `status` of the cancellation, not of its event.
    let condition = match target {
        Target::Service(_) => OPEN.to_string().replace("status", "c.status"),
        Target::Domain(_) => "c.status = 'renewal_disabled'".to_owned(),
    };
    connection
        .query_row(
            &format!(
                "{STORED} WHERE c.instance = ?1 AND c.subject_kind = ?2 AND c.subject_id = ?3
                          AND ({condition}) ORDER BY c.id DESC LIMIT 1"
            ),
            params![instance, kind, sql_integer(id)],
            stored_from_row,
        )
        .optional()
}

/// The newest cancellation of a service or domain, whatever its status.
pub fn latest(
    connection: &Connection,
    instance: &str,
    target: Target,
) -> rusqlite::Result<Option<StoredCancellation>> {
    let (kind, id) = target.columns();
    connection
        .query_row(
            &format!(
                "{STORED} WHERE c.instance = ?1 AND c.subject_kind = ?2 AND c.subject_id = ?3
                 ORDER BY c.id DESC LIMIT 1"
            ),
            params![instance, kind, sql_integer(id)],
            stored_from_row,
        )
        .optional()
}

/// The cancellation a client's request (its event) recorded or completed.
pub fn by_event(
    connection: &Connection,
    event_id: &str,
) -> rusqlite::Result<Option<StoredCancellation>> {
    connection
        .query_row(
            &format!("{STORED} WHERE e.id = ?1 ORDER BY c.id DESC LIMIT 1"),
            [event_id],
            stored_from_row,
        )
        .optional()
}

/// The open cancellation that may hold a service's termination by WHMCS:
/// one the client has not confirmed, or a scheduled one with its type and
/// effective date.
pub fn holding(
    connection: &Connection,
    instance: &str,
    service_id: u64,
) -> rusqlite::Result<Option<cancel::Pending>> {
    let found: Option<(String, String, Option<String>)> = connection
        .query_row(
            "SELECT status, cancel_type, effective_date FROM cancellations
              WHERE instance = ?1 AND subject_kind = 'service' AND subject_id = ?2
                AND (status = 'unconfirmed'
                     OR (status = 'scheduled' AND effective_date IS NOT NULL))",
            params![instance, sql_integer(service_id)],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .optional()?;
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
pub(crate) fn list_statement(query: &RecordQuery) -> (String, Vec<Box<dyn rusqlite::ToSql>>) {
    query.statement(
        STORED,
        &RecordColumns {
            alias: "c.",
            service: "c.subject_kind = 'service' AND c.subject_id =",
        },
    )
}

/// Cancellations in the order they were recorded.
pub fn list(
    connection: &Connection,
    query: &RecordQuery,
) -> rusqlite::Result<Vec<StoredCancellation>> {
    list_rows(connection, list_statement(query), stored_from_row)
}
