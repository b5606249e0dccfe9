//! The `upgrade_applications` table (paid upgrades to carry out, written in
//! the reporting event's transaction) and `manual_upgrade_requests` (one
//! open ticket per service) on PostgreSQL; see its SQLite twin for the
//! rules each statement keeps.

use deadpool_postgres::GenericClient;
use rust_decimal::Decimal;
use tokio_postgres::Row;

use super::messages;
use super::sql::{
    PgError, PgResult, RELEASE, RecordColumns, Value, holds, list_rows, record_statement, renew,
    sql_integer,
};
use super::tx::Tx;
use crate::store::Held;
use crate::store::RecordQuery;
use crate::store::Work;
use crate::store::messages::Retry;
use crate::store::upgrades::{NewRequest, OpenRequest, PendingApplication, StoredApplication};

use crate::domain::ids::InstanceName;
use crate::domain::plan::Plan;
use crate::domain::upgrade_apply::{Application, Disposition, UpgradeStatus};

/// The table of the upgrades' records; each row keeps the event that
/// planned it from retention (the record is the account's history).
pub(super) const TABLE: &str = "upgrade_applications";

/// The upgrades of an event's plan.
pub(super) fn planned(plan: &Plan) -> &[Application] {
    &plan.upgrades
}

/// `recurring_amount` is NUMERIC: the amount binds as a `Decimal`, rounded
/// to its currency's decimals as SQLite's text is, and `round` keeps that
/// scale for a zero amount, which the `Decimal` binds without one.
const INSERT: &str = "INSERT INTO upgrade_applications
        (event_seq, instance, upgrade_id, upgrade_type, service_id, client_id,
         product_id, billing_cycle, policy, enable_date, next_due_date,
         recurring_amount, status, last_error, planned_at_ms)
 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11,
         round($12::NUMERIC, $16::BIGINT::INTEGER), $13, $14, $15)
 ON CONFLICT (instance, upgrade_id) DO NOTHING";

/// Records the upgrade, one planned item of the event `event_seq`; wakes
/// the upgrade worker when it was not recorded yet and is to be applied.
pub(super) async fn record(
    tx: &Tx<'_>,
    event_seq: i64,
    instance: &InstanceName,
    upgrade: &Application,
    now: jiff::Timestamp,
) -> PgResult<()> {
    let (status, reason) = match &upgrade.disposition {
        Disposition::Apply => (UpgradeStatus::Planned, None),
        Disposition::Record => (
            UpgradeStatus::Recorded,
            Some("puente records this type of upgrade and never applies it"),
        ),
        Disposition::Refuse(reason) => (UpgradeStatus::Refused, Some(reason.as_str())),
    };
    let amount: Option<Decimal> = upgrade
        .recurring_amount
        .map(|amount| amount.rounded().amount());
    let scale = amount.map_or(0, |amount| i64::from(amount.scale()));
    let statement = tx.prepare_cached(INSERT).await?;
    let added = tx
        .execute(
            &statement,
            &[
                &event_seq,
                &instance.as_str(),
                &sql_integer(upgrade.upgrade_id),
                &upgrade.upgrade_type.as_str(),
                &sql_integer(upgrade.service_id),
                &sql_integer(upgrade.client_id),
                &upgrade.product_id.map(sql_integer),
                &upgrade.cycle.map(|cycle| cycle.as_str()),
                &upgrade.policy.as_str(),
                &upgrade.enable_date.to_string(),
                &upgrade.next_due_date.map(|date| date.to_string()),
                &amount,
                &status.as_str(),
                &reason,
                &now.as_millisecond(),
                &scale,
            ],
        )
        .await?;
    if added == 1 && status == UpgradeStatus::Planned {
        tx.wake(Work::Upgrades);
    }
    Ok(())
}

/// A stored amount as the text SQLite keeps (the `Decimal`'s, with the
/// scale it was stored with).
fn amount_text(amount: Option<Decimal>) -> Option<String> {
    amount.map(|amount| amount.to_string())
}

/// Upgrades still to carry out, oldest first, taken for `owner` (`applying`
/// ones were interrupted, here or on a replica whose lease lapsed: WHMCS is
/// read before the change is asked for again).
pub async fn pending(tx: &Tx<'_>, owner: &str) -> PgResult<Vec<PendingApplication>> {
    let rows = super::sql::claim(
        &**tx,
        "upgrade_applications",
        "status IN ('planned', 'applying')",
        "id",
        None,
        "t.id, t.event_seq, t.instance, t.upgrade_id, t.service_id, t.client_id, t.billing_cycle,
         t.next_due_date, t.recurring_amount, t.attempts, t.status = 'applying', t.lease_epoch",
        owner,
        &[],
    )
    .await?;
    let mut pending = rows
        .iter()
        .map(|row| {
            let attempts: i64 = row.try_get(9)?;
            Ok(PendingApplication {
                id: row.try_get(0)?,
                lease: row.try_get(11)?,
                event_seq: row.try_get(1)?,
                instance: row.try_get(2)?,
                upgrade_id: row.try_get::<_, i64>(3)?.unsigned_abs(),
                service_id: row.try_get::<_, i64>(4)?.unsigned_abs(),
                client_id: row.try_get::<_, i64>(5)?.unsigned_abs(),
                // Set on every row to apply (a CHECK of the table).
                billing_cycle: row.try_get::<_, Option<String>>(6)?.unwrap_or_default(),
                next_due_date: row.try_get(7)?,
                recurring_amount: amount_text(row.try_get(8)?),
                attempts: u32::try_from(attempts).map_err(|_| {
                    PgError::Data(format!(
                        "upgrade_applications.attempts {attempts} is out of range"
                    ))
                })?,
                interrupted: row.try_get(10)?,
            })
        })
        .collect::<PgResult<Vec<_>>>()?;
    pending.sort_by_key(|upgrade| upgrade.id);
    Ok(pending)
}

/// Marks an upgrade as being carried out, before the WHMCS call, and
/// renews `owner`'s lease on it; false when `owner` no longer holds it.
pub async fn mark_applying(tx: &Tx<'_>, owner: &str, upgrade: Held) -> PgResult<bool> {
    let statement = tx
        .prepare_cached(&format!(
            "UPDATE upgrade_applications SET status = 'applying', attempts = attempts + 1, {}
              WHERE id = $1 AND status IN ('planned', 'applying') AND {}",
            renew(),
            holds(2, 3)
        ))
        .await?;
    let changed = tx
        .execute(&statement, &[&upgrade.id, &owner, &upgrade.epoch])
        .await?;
    Ok(changed == 1)
}

/// Records the upgrade as applied and plans its "upgrade applied" alert,
/// in one change. True when the alert was planned.
pub async fn mark_applied(
    tx: &Tx<'_>,
    owner: &str,
    upgrade: &PendingApplication,
    now: jiff::Timestamp,
) -> PgResult<bool> {
    let statement = tx
        .prepare_cached(&format!(
            "UPDATE upgrade_applications SET status = 'applied', last_error = NULL, applied_at_ms = $2,
                    {RELEASE}
              WHERE id = $1 AND status IN ('planned', 'applying') AND {}",
            holds(3, 4)
        ))
        .await?;
    let changed = tx
        .execute(
            &statement,
            &[&upgrade.id, &now.as_millisecond(), &owner, &upgrade.lease],
        )
        .await?;
    if changed == 0 {
        return Ok(false);
    }
    let alert = upgrade.applied_alert();
    messages::plan(tx, upgrade.event_seq, &upgrade.instance, &alert, now).await
}

/// Back to `planned` with the reason; the next drain tries again.
pub async fn mark_retry(tx: &Tx<'_>, owner: &str, upgrade: Held, error: &str) -> PgResult<()> {
    let statement = tx
        .prepare_cached(&format!(
            "UPDATE upgrade_applications SET status = 'planned', last_error = $2, {RELEASE}
              WHERE id = $1 AND status IN ('planned', 'applying') AND {}",
            holds(3, 4)
        ))
        .await?;
    tx.execute(&statement, &[&upgrade.id, &error, &owner, &upgrade.epoch])
        .await?;
    Ok(())
}

/// WHMCS refused the change: kept, with why, for the administrator.
pub async fn mark_failed(tx: &Tx<'_>, owner: &str, upgrade: Held, error: &str) -> PgResult<()> {
    let statement = tx
        .prepare_cached(&format!(
            "UPDATE upgrade_applications SET status = 'failed', last_error = $2, {RELEASE}
              WHERE id = $1 AND status IN ('planned', 'applying') AND {}",
            holds(3, 4)
        ))
        .await?;
    tx.execute(&statement, &[&upgrade.id, &error, &owner, &upgrade.epoch])
        .await?;
    Ok(())
}

/// The statement [`list`] runs, and its parameters.
pub(crate) fn list_statement(query: &RecordQuery) -> (String, Vec<Value>) {
    record_statement(
        query,
        "SELECT u.id, e.id, u.instance, u.upgrade_id, u.service_id, u.client_id, u.product_id,
                u.billing_cycle, u.policy, u.enable_date, u.next_due_date, u.recurring_amount,
                u.status, u.attempts, u.last_error, u.planned_at_ms, u.applied_at_ms,
                u.upgrade_type
           FROM upgrade_applications u JOIN events e ON e.seq = u.event_seq",
        &RecordColumns {
            alias: "u.",
            service: "u.service_id =",
        },
    )
}

/// Recorded upgrades in the order they were reported.
pub async fn list(
    client: &impl GenericClient,
    query: &RecordQuery,
) -> PgResult<Vec<StoredApplication>> {
    list_rows(client, list_statement(query), application_from_row).await
}

fn application_from_row(row: &Row) -> PgResult<StoredApplication> {
    let time = |ms: i64| {
        jiff::Timestamp::from_millisecond(ms)
            .map(|at| at.to_string())
            .unwrap_or_default()
    };
    Ok(StoredApplication {
        id: row.try_get(0)?,
        event_id: row.try_get(1)?,
        instance: row.try_get(2)?,
        upgrade_id: row.try_get(3)?,
        upgrade_type: row.try_get(17)?,
        service_id: row.try_get(4)?,
        client_id: row.try_get(5)?,
        product_id: row.try_get(6)?,
        billing_cycle: row.try_get(7)?,
        policy: row.try_get(8)?,
        enable_date: row.try_get(9)?,
        next_due_date: row.try_get(10)?,
        recurring_amount: amount_text(row.try_get(11)?),
        status: row.try_get(12)?,
        attempts: row.try_get(13)?,
        last_error: row.try_get(14)?,
        planned_at: time(row.try_get(15)?),
        applied_at: row.try_get::<_, Option<i64>>(16)?.map(time),
    })
}

/// Plans a failed upgrade again (after the administrator fixed what WHMCS
/// refused); `None` when there is no such row.
pub async fn retry(tx: &Tx<'_>, id: i64) -> PgResult<Option<Retry>> {
    let statement = tx
        .prepare_cached("SELECT status FROM upgrade_applications WHERE id = $1")
        .await?;
    let Some(row) = tx.query_opt(&statement, &[&id]).await? else {
        return Ok(None);
    };
    let status: String = row.try_get(0)?;
    if UpgradeStatus::parse(&status) != Some(UpgradeStatus::Failed) {
        return Ok(Some(Retry::NotRetryable(status)));
    }
    let statement = tx
        .prepare_cached(
            "UPDATE upgrade_applications
                SET status = 'planned', last_error = 'retried by an operator',
                    lease_owner = NULL, lease_expires_at_ms = NULL
              WHERE id = $1",
        )
        .await?;
    tx.execute(&statement, &[&id]).await?;
    tx.wake(Work::Upgrades);
    Ok(Some(Retry::Planned))
}

/// The service's request that is being opened or open, if any.
pub async fn open_request(
    client: &impl GenericClient,
    instance: &str,
    service_id: u64,
) -> PgResult<Option<OpenRequest>> {
    let statement = client
        .prepare_cached(
            "SELECT id, status, ticket_id, ticket_number, requested_at_ms
               FROM manual_upgrade_requests
              WHERE instance = $1 AND service_id = $2 AND status IN ('opening', 'open')",
        )
        .await?;
    let Some(row) = client
        .query_opt(&statement, &[&instance, &sql_integer(service_id)])
        .await?
    else {
        return Ok(None);
    };
    Ok(Some(OpenRequest {
        id: row.try_get(0)?,
        status: row.try_get(1)?,
        ticket_id: row.try_get::<_, Option<i64>>(2)?.map(i64::unsigned_abs),
        ticket_number: row.try_get(3)?,
        requested_at_ms: row.try_get(4)?,
    }))
}

/// Reserves the service's one open request before the ticket is opened;
/// `None` when another request holds it. `stale_before_ms`: an `opening`
/// row older than this was interrupted and is given up.
pub async fn reserve_request(
    tx: &Tx<'_>,
    request: &NewRequest,
    now: jiff::Timestamp,
    stale_before_ms: i64,
) -> PgResult<Option<i64>> {
    let service_id = sql_integer(request.service_id);
    let statement = tx
        .prepare_cached(
            "UPDATE manual_upgrade_requests
                SET status = 'failed',
                    last_error = 'interrupted while opening the ticket; check WHMCS for a ticket of this service'
              WHERE instance = $1 AND service_id = $2 AND status = 'opening' AND requested_at_ms < $3",
        )
        .await?;
    tx.execute(
        &statement,
        &[&request.instance, &service_id, &stale_before_ms],
    )
    .await?;
    let statement = tx
        .prepare_cached(
            "INSERT INTO manual_upgrade_requests
                    (instance, service_id, client_id, product_id, billing_cycle, status, requested_at_ms)
             VALUES ($1, $2, $3, $4, $5, 'opening', $6)
             ON CONFLICT DO NOTHING
             RETURNING id",
        )
        .await?;
    let Some(added) = tx
        .query_opt(
            &statement,
            &[
                &request.instance,
                &service_id,
                &sql_integer(request.client_id),
                &sql_integer(request.product_id),
                &request.billing_cycle,
                &now.as_millisecond(),
            ],
        )
        .await?
    else {
        return Ok(None);
    };
    Ok(Some(added.try_get(0)?))
}

/// The ticket is open.
pub async fn request_opened(
    tx: &Tx<'_>,
    id: i64,
    ticket_id: u64,
    ticket_number: &str,
) -> PgResult<()> {
    let statement = tx
        .prepare_cached(
            "UPDATE manual_upgrade_requests SET status = 'open', ticket_id = $2, ticket_number = $3
              WHERE id = $1",
        )
        .await?;
    tx.execute(&statement, &[&id, &sql_integer(ticket_id), &ticket_number])
        .await?;
    Ok(())
}

/// The ticket could not be opened, or was closed since.
pub async fn request_ended(
    tx: &Tx<'_>,
    id: i64,
    status: &'static str,
    error: Option<&str>,
    now: jiff::Timestamp,
) -> PgResult<()> {
    let statement = tx
        .prepare_cached(
            "UPDATE manual_upgrade_requests SET status = $2, last_error = $3, closed_at_ms = $4
              WHERE id = $1",
        )
        .await?;
    tx.execute(&statement, &[&id, &status, &error, &now.as_millisecond()])
        .await?;
    Ok(())
}
