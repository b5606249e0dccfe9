//! The `upgrade_applications` table (paid upgrades to carry out, written in
//! the reporting event's transaction) and `manual_upgrade_requests` (one
//! open ticket per service).

use rusqlite::{CachedStatement, Connection, OptionalExtension, Row, Transaction, params};

use super::messages;
use super::rows::RuleRows;
use super::sql::{RecordColumns, list_rows, sql_integer};
use super::tx::Tx;
use crate::store::RecordQuery;
use crate::store::Work;
use crate::store::messages::Retry;
use crate::store::upgrades::{NewRequest, OpenRequest, PendingApplication, StoredApplication};

use crate::domain::ids::InstanceName;
use crate::domain::plan::Plan;
use crate::domain::upgrade_apply::{Application, Disposition, UpgradeStatus};

/// The statement that records an event's upgrades.
pub(super) struct UpgradeRows<'t> {
    insert: CachedStatement<'t>,
}

impl<'t> RuleRows<'t> for UpgradeRows<'t> {
    type Item = Application;
    const TABLE: &'static str = "upgrade_applications";

    fn planned(plan: &Plan) -> &[Application] {
        &plan.upgrades
    }

    fn prepare(transaction: &'t Transaction<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            insert: transaction.prepare_cached(
                "INSERT INTO upgrade_applications
                        (event_seq, instance, upgrade_id, upgrade_type, service_id, client_id,
                         product_id, billing_cycle, policy, enable_date, next_due_date,
                         recurring_amount, status, last_error, planned_at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
                 ON CONFLICT (instance, upgrade_id) DO NOTHING",
            )?,
        })
    }

    /// Records the upgrade; wakes the upgrade worker when it was not
    /// recorded yet and is to be applied.
    fn run(
        &mut self,
        tx: &Tx<'_>,
        event_seq: i64,
        instance: &InstanceName,
        upgrade: &Application,
        now: jiff::Timestamp,
    ) -> rusqlite::Result<()> {
        let (status, reason) = match &upgrade.disposition {
            Disposition::Apply => (UpgradeStatus::Planned, None),
            Disposition::Record => (
                UpgradeStatus::Recorded,
                Some("puente records this type of upgrade and never applies it"),
            ),
            Disposition::Refuse(reason) => (UpgradeStatus::Refused, Some(reason.as_str())),
        };
        let added = self.insert.execute(params![
            event_seq,
            instance.as_str(),
            sql_integer(upgrade.upgrade_id),
            upgrade.upgrade_type.as_str(),
            sql_integer(upgrade.service_id),
            sql_integer(upgrade.client_id),
            upgrade.product_id.map(sql_integer),
            upgrade.cycle.map(|cycle| cycle.as_str()),
            upgrade.policy.as_str(),
            upgrade.enable_date.to_string(),
            upgrade.next_due_date.map(|date| date.to_string()),
            upgrade.recurring_amount.map(|amount| amount.to_string()),
            status.as_str(),
            reason,
            now.as_millisecond(),
        ])?;
        if added == 1 && status == UpgradeStatus::Planned {
            tx.wake(Work::Upgrades);
        }
        Ok(())
    }
}

/// Upgrades still to carry out, oldest first (`applying` ones were
/// interrupted: WHMCS is read before the change is asked for again).
pub fn pending(connection: &Connection) -> rusqlite::Result<Vec<PendingApplication>> {
    let mut statement = connection.prepare_cached(
        "SELECT id, event_seq, instance, upgrade_id, service_id, client_id, billing_cycle,
                next_due_date, recurring_amount, attempts, status = 'applying'
           FROM upgrade_applications
          WHERE status IN ('planned', 'applying')
          ORDER BY id",
    )?;
    let rows = statement.query_map([], |row| {
        Ok(PendingApplication {
            id: row.get(0)?,
            lease: 0,
            event_seq: row.get(1)?,
            instance: row.get(2)?,
            upgrade_id: row.get::<_, i64>(3)?.unsigned_abs(),
            service_id: row.get::<_, i64>(4)?.unsigned_abs(),
            client_id: row.get::<_, i64>(5)?.unsigned_abs(),
            // Set on every row to apply (a CHECK of the table).
            billing_cycle: row.get::<_, Option<String>>(6)?.unwrap_or_default(),
            next_due_date: row.get(7)?,
            recurring_amount: row.get(8)?,
            attempts: row.get(9)?,
            interrupted: row.get(10)?,
        })
    })?;
    rows.collect()
}

/// Marks an upgrade as being carried out, before the WHMCS call.
pub fn mark_applying(connection: &Connection, id: i64) -> rusqlite::Result<bool> {
    let changed = connection.execute(
        "UPDATE upgrade_applications SET status = 'applying', attempts = attempts + 1
          WHERE id = ?1 AND status IN ('planned', 'applying')",
        [id],
    )?;
    Ok(changed == 1)
}

/// Records the upgrade as applied and plans its "upgrade applied" alert,
/// in one change. True when the alert was planned.
pub fn mark_applied(
    tx: &Tx<'_>,
    upgrade: &PendingApplication,
    now: jiff::Timestamp,
) -> rusqlite::Result<bool> {
    let changed = tx.execute(
        "UPDATE upgrade_applications SET status = 'applied', last_error = NULL, applied_at_ms = ?2
          WHERE id = ?1 AND status IN ('planned', 'applying')",
        params![upgrade.id, now.as_millisecond()],
    )?;
    if changed == 0 {
        return Ok(false);
    }
    let alert = upgrade.applied_alert();
    messages::plan(tx, upgrade.event_seq, &upgrade.instance, &alert, now)
}

/// Back to `planned` with the reason; the next drain tries again.
pub fn mark_retry(connection: &Connection, id: i64, error: &str) -> rusqlite::Result<()> {
    connection.execute(
        "UPDATE upgrade_applications SET status = 'planned', last_error = ?2
          WHERE id = ?1 AND status IN ('planned', 'applying')",
        params![id, error],
    )?;
    Ok(())
}

/// WHMCS refused the change: kept, with why, for the administrator.
pub fn mark_failed(connection: &Connection, id: i64, error: &str) -> rusqlite::Result<()> {
    connection.execute(
        "UPDATE upgrade_applications SET status = 'failed', last_error = ?2
          WHERE id = ?1 AND status IN ('planned', 'applying')",
        params![id, error],
    )?;
    Ok(())
}

/// The statement [`list`] runs, and its parameters.
pub(crate) fn list_statement(query: &RecordQuery) -> (String, Vec<Box<dyn rusqlite::ToSql>>) {
    query.statement(
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
pub fn list(
    connection: &Connection,
    query: &RecordQuery,
) -> rusqlite::Result<Vec<StoredApplication>> {
    list_rows(connection, list_statement(query), application_from_row)
}

fn application_from_row(row: &Row<'_>) -> rusqlite::Result<StoredApplication> {
    let time = |ms: i64| {
        jiff::Timestamp::from_millisecond(ms)
            .map(|at| at.to_string())
            .unwrap_or_default()
    };
    Ok(StoredApplication {
        id: row.get(0)?,
        event_id: row.get(1)?,
        instance: row.get(2)?,
        upgrade_id: row.get(3)?,
        upgrade_type: row.get(17)?,
        service_id: row.get(4)?,
        client_id: row.get(5)?,
        product_id: row.get(6)?,
        billing_cycle: row.get(7)?,
        policy: row.get(8)?,
        enable_date: row.get(9)?,
        next_due_date: row.get(10)?,
        recurring_amount: row.get(11)?,
        status: row.get(12)?,
        attempts: row.get(13)?,
        last_error: row.get(14)?,
        planned_at: time(row.get(15)?),
        applied_at: row.get::<_, Option<i64>>(16)?.map(time),
    })
}

/// Plans a failed upgrade again (after the administrator fixed what WHMCS
/// refused); `None` when there is no such row.
pub fn retry(tx: &Tx<'_>, id: i64) -> rusqlite::Result<Option<Retry>> {
    let status: Option<String> = tx
        .query_row(
            "SELECT status FROM upgrade_applications WHERE id = ?1",
            [id],
            |row| row.get(0),
        )
        .optional()?;
    let Some(status) = status else {
        return Ok(None);
    };
    if UpgradeStatus::parse(&status) != Some(UpgradeStatus::Failed) {
        return Ok(Some(Retry::NotRetryable(status)));
    }
    tx.execute(
        "UPDATE upgrade_applications SET status = 'planned', last_error = 'retried by an operator'
          WHERE id = ?1",
        [id],
    )?;
    tx.wake(Work::Upgrades);
    Ok(Some(Retry::Planned))
}

/// The service's request that is being opened or open, if any.
pub fn open_request(
    connection: &Connection,
    instance: &str,
    service_id: u64,
) -> rusqlite::Result<Option<OpenRequest>> {
    connection
        .query_row(
            "SELECT id, status, ticket_id, ticket_number, requested_at_ms
               FROM manual_upgrade_requests
              WHERE instance = ?1 AND service_id = ?2 AND status IN ('opening', 'open')",
            params![instance, sql_integer(service_id)],
            |row| {
                Ok(OpenRequest {
                    id: row.get(0)?,
                    status: row.get(1)?,
                    ticket_id: row.get::<_, Option<i64>>(2)?.map(i64::unsigned_abs),
                    ticket_number: row.get(3)?,
                    requested_at_ms: row.get(4)?,
                })
            },
        )
        .optional()
}

/// Reserves the service's one open request before the ticket is opened;
/// `None` when another request holds it. `stale_before_ms`: an `opening`
/// row older than this was interrupted and is given up.
pub fn reserve_request(
    connection: &Connection,
    request: &NewRequest,
    now: jiff::Timestamp,
    stale_before_ms: i64,
) -> rusqlite::Result<Option<i64>> {
    connection.execute(
        "UPDATE manual_upgrade_requests
            SET status = 'failed',
                last_error = 'interrupted while opening the ticket; check WHMCS for a ticket of this service'
          WHERE instance = ?1 AND service_id = ?2 AND status = 'opening' AND requested_at_ms < ?3",
        params![request.instance, sql_integer(request.service_id), stale_before_ms],
    )?;
    let added = connection.execute(
        "INSERT INTO manual_upgrade_requests
                (instance, service_id, client_id, product_id, billing_cycle, status, requested_at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, 'opening', ?6)
         ON CONFLICT DO NOTHING",
        params![
            request.instance,
            sql_integer(request.service_id),
            sql_integer(request.client_id),
            sql_integer(request.product_id),
            request.billing_cycle,
            now.as_millisecond(),
        ],
    )?;
    Ok((added == 1).then(|| connection.last_insert_rowid()))
}

/// The ticket is open.
pub fn request_opened(
    connection: &Connection,
    id: i64,
    ticket_id: u64,
    ticket_number: &str,
) -> rusqlite::Result<()> {
    connection.execute(
        "UPDATE manual_upgrade_requests SET status = 'open', ticket_id = ?2, ticket_number = ?3
          WHERE id = ?1",
        params![id, sql_integer(ticket_id), ticket_number],
    )?;
    Ok(())
}

/// The ticket could not be opened, or was closed since.
pub fn request_ended(
    connection: &Connection,
    id: i64,
    status: &'static str,
    error: Option<&str>,
    now: jiff::Timestamp,
) -> rusqlite::Result<()> {
    connection.execute(
        "UPDATE manual_upgrade_requests SET status = ?2, last_error = ?3, closed_at_ms = ?4
          WHERE id = ?1",
        params![id, status, error, now.as_millisecond()],
    )?;
    Ok(())
}
