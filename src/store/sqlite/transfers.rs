//! The `transfers` table and its audit trail `transfer_steps`: the request
//! recorded with the owner's event, each later step as a change that moves
//! the status only from where the step starts (a step that lost a race
//! changes nothing), the worker's reads, and the API's lists.

use rusqlite::{CachedStatement, Connection, OptionalExtension, Row, Transaction, params};

use super::messages;
use super::rows::RuleRows;
use super::sql::{RecordColumns, list_rows, sql_integer};
use super::tx::Tx;
use crate::domain::alerts::AlertKind;
use crate::domain::ids::InstanceName;
use crate::domain::plan::Plan;
use crate::domain::templates::Parameter;
use crate::domain::transfer::{Check, ClearedSubscription, NewTransfer, Party, Status};
use crate::store::RecordQuery;
use crate::store::TransferStep;
use crate::store::Work;
use crate::store::sql::time_text;
use crate::store::transfers::{StoredStep, StoredTransfer, alert_names, client_alert};

/// The statuses of a service's one open transfer, as SQL (the same text as
/// the partial unique index of migration 0010).
const OPEN: super::sql::AnyStatus<Status> = super::sql::AnyStatus(Status::OPEN);

/// The statements that record an owner's request.
pub(super) struct TransferRows<'t> {
    insert: CachedStatement<'t>,
}

impl<'t> RuleRows<'t> for TransferRows<'t> {
    type Item = NewTransfer;
    const TABLE: &'static str = "transfers";

    fn planned(plan: &Plan) -> &[NewTransfer] {
        &plan.transfers
    }

    fn prepare(transaction: &'t Transaction<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            insert: transaction.prepare_cached(&format!(
                "INSERT INTO transfers
                        (event_seq, instance, service_id, service_name, service_domain, domain_id,
                         owner_client_id, recipient_client_id, recipient_email, approval, status,
                         requested_at_ms, expires_at_ms, updated_at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 'requested', ?11, ?12, ?13)
                 ON CONFLICT (instance, service_id) WHERE {OPEN} DO NOTHING"
            ))?,
        })
    }

    /// Records the request, its first step and the recipient's alert;
    /// nothing when the service already has an open transfer.
    fn run(
        &mut self,
        tx: &Tx<'_>,
        event_seq: i64,
        instance: &InstanceName,
        transfer: &NewTransfer,
        now: jiff::Timestamp,
    ) -> rusqlite::Result<()> {
        let added = self.insert.execute(params![
            event_seq,
            instance.as_str(),
            sql_integer(transfer.service_id),
            transfer.service_name,
            transfer.service_domain,
            transfer.domain_id.map(sql_integer),
            sql_integer(transfer.owner_client_id),
            sql_integer(transfer.recipient_client_id),
            transfer.recipient_email,
            transfer.approval.as_str(),
            transfer.requested_at.as_millisecond(),
            transfer.expires_at.as_millisecond(),
            now.as_millisecond(),
        ])?;
        if added == 0 {
            return Ok(());
        }
        let id = tx.last_insert_rowid();
        record_step(
            tx,
            id,
            None,
            Status::Requested,
            Party::Owner,
            Some(transfer.owner_client_id),
            transfer.owner_user_id,
            &transfer.checks,
            None,
            now,
        )?;
        let mut details = alert_names(&transfer.service_name, &transfer.service_domain);
        details.insert(
            Parameter::TransferLink.as_str(),
            transfer.answer_link.clone(),
        );
        let alert = client_alert(
            AlertKind::TransferRequested,
            transfer.recipient_client_id,
            format!("transfer_requested:{id}"),
            details,
        );
        messages::plan(tx, event_seq, instance.as_str(), &alert, now)?;
        Ok(())
    }
}

#[allow(clippy::too_many_arguments)]
fn record_step(
    connection: &Connection,
    transfer_id: i64,
    from: Option<Status>,
    to: Status,
    party: Party,
    actor_client_id: Option<u64>,
    actor_user_id: Option<u64>,
    checks: &[Check],
    note: Option<&str>,
    now: jiff::Timestamp,
) -> rusqlite::Result<()> {
    let checks = (!checks.is_empty())
        .then(|| serde_json::to_string(checks))
        .transpose()
        .map_err(|error| rusqlite::Error::ToSqlConversionFailure(Box::new(error)))?;
    connection.execute(
        "INSERT INTO transfer_steps (transfer_id, from_status, to_status, party, actor_client_id,
                                     actor_user_id, at_ms, checks, note)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            transfer_id,
            from.map(Status::as_str),
            to.as_str(),
            party.as_str(),
            actor_client_id.map(sql_integer),
            actor_user_id.map(sql_integer),
            now.as_millisecond(),
            checks,
            note,
        ],
    )?;
    Ok(())
}

const STORED: &str = "SELECT id, event_seq, instance, service_id, service_name, service_domain,
            domain_id, owner_client_id, recipient_client_id, recipient_email, approval, status,
            requested_at_ms, expires_at_ms, move_attempts, last_error, subscriptions_cleared
       FROM transfers";

fn stored_from_row(row: &Row<'_>) -> rusqlite::Result<StoredTransfer> {
    let expires_at_ms: i64 = row.get(13)?;
    Ok(StoredTransfer {
        id: row.get(0)?,
        lease: 0,
        event_seq: row.get(1)?,
        instance: row.get(2)?,
        service_id: row.get(3)?,
        service_name: row.get(4)?,
        service_domain: row.get(5)?,
        domain_id: row.get(6)?,
        owner_client_id: row.get(7)?,
        recipient_client_id: row.get(8)?,
        recipient_email: row.get(9)?,
        approval: row.get(10)?,
        status: row.get(11)?,
        requested_at: time_text(row.get(12)?),
        expires_at: time_text(expires_at_ms),
        expires_at_ms,
        move_attempts: row.get(14)?,
        last_error: row.get(15)?,
        subscriptions_cleared: row
            .get::<_, Option<String>>(16)?
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or_default(),
    })
}

/// One transfer of an instance.
pub fn get(
    connection: &Connection,
    instance: &str,
    id: i64,
) -> rusqlite::Result<Option<StoredTransfer>> {
    connection
        .query_row(
            &format!("{STORED} WHERE instance = ?1 AND id = ?2"),
            params![instance, id],
            stored_from_row,
        )
        .optional()
}

/// One transfer, whatever its instance (the admin API).
pub fn by_id(connection: &Connection, id: i64) -> rusqlite::Result<Option<StoredTransfer>> {
    connection
        .query_row(&format!("{STORED} WHERE id = ?1"), [id], stored_from_row)
        .optional()
}

/// The transfer the owner's request (its event) recorded.
pub fn by_event(
    connection: &Connection,
    event_id: &str,
) -> rusqlite::Result<Option<StoredTransfer>> {
    connection
        .query_row(
            &format!("{STORED} WHERE event_seq = (SELECT seq FROM events WHERE id = ?1)"),
            [event_id],
            stored_from_row,
        )
        .optional()
}

/// Whether the service has an open transfer.
pub fn open_for_service(
    connection: &Connection,
    instance: &str,
    service_id: u64,
) -> rusqlite::Result<bool> {
    connection.query_row(
        &format!(
            "SELECT EXISTS (SELECT 1 FROM transfers WHERE instance = ?1 AND service_id = ?2 AND ({OPEN}))"
        ),
        params![instance, sql_integer(service_id)],
        |row| row.get(0),
    )
}

/// Every open transfer, oldest first (the worker's pass).
pub fn open(connection: &Connection) -> rusqlite::Result<Vec<StoredTransfer>> {
    let mut statement = connection.prepare_cached(&format!("{STORED} WHERE {OPEN} ORDER BY id"))?;
    let rows = statement.query_map([], stored_from_row)?;
    rows.collect()
}

/// A client's transfers: those they asked for, and those addressed to them.
pub fn of_client(
    connection: &Connection,
    instance: &str,
    client_id: u64,
) -> rusqlite::Result<(Vec<StoredTransfer>, Vec<StoredTransfer>)> {
    let list = |column: &str| -> rusqlite::Result<Vec<StoredTransfer>> {
        let mut statement = connection.prepare_cached(&format!(
            "{STORED} WHERE instance = ?1 AND {column} = ?2 ORDER BY id DESC LIMIT 50"
        ))?;
        let rows =
            statement.query_map(params![instance, sql_integer(client_id)], stored_from_row)?;
        rows.collect()
    };
    Ok((list("owner_client_id")?, list("recipient_client_id")?))
}

/// Moves a transfer from `from` to `to` and records the step with who
/// took it, the preconditions checked and a note; with `alert`, plans it.
/// False when the transfer is no longer at `from` (nothing is written).
/// One process holds every row here: the step's hold is not checked.
pub fn take_step(tx: &Tx<'_>, step: &TransferStep) -> rusqlite::Result<bool> {
    let TransferStep {
        transfer,
        held: _,
        from,
        to,
        actor,
        checks,
        note,
        alert,
        subscriptions_cleared,
        now,
    } = step;
    let (from, to, now, note) = (*from, *to, *now, note.as_deref());
    if !subscriptions_cleared.is_empty() {
        note_subscriptions_cleared(tx, transfer.id, subscriptions_cleared)?;
    }
    let moves = matches!(to, Status::Moving);
    let changed = tx.execute(
        "UPDATE transfers
            SET status = ?3, updated_at_ms = ?4,
                move_attempts = move_attempts + ?5,
                last_error = CASE WHEN ?3 = 'failed' THEN ?6 ELSE last_error END
          WHERE id = ?1 AND status = ?2",
        params![
            transfer.id,
            from.as_str(),
            to.as_str(),
            now.as_millisecond(),
            i64::from(moves),
            note,
        ],
    )?;
    if changed == 0 {
        return Ok(false);
    }
    record_step(
        tx,
        transfer.id,
        Some(from),
        to,
        actor.party,
        actor.client_id,
        actor.user_id,
        checks,
        note,
        now,
    )?;
    if let Some(alert) = *alert {
        let details = alert_names(&transfer.service_name, &transfer.service_domain);
        for (client, wanted) in [
            (transfer.owner_client_id, alert.to_owner),
            (transfer.recipient_client_id, alert.to_recipient),
        ] {
            if wanted {
                let client = client.unsigned_abs();
                let planned = client_alert(
                    alert.kind,
                    client,
                    format!("{}:{}:{client}", alert.kind.as_str(), transfer.id),
                    details.clone(),
                );
                messages::plan(tx, transfer.event_seq, &transfer.instance, &planned, now)?;
            }
        }
    }
    if to.awaits_move() {
        tx.wake(Work::Transfers);
    }
    Ok(true)
}

/// A move that could not reach the addon: kept `moving`, with why; the
/// next pass asks again (the move is idempotent).
pub fn note_move_failure(
    connection: &Connection,
    id: i64,
    error: &str,
    now: jiff::Timestamp,
) -> rusqlite::Result<()> {
    connection.execute(
        "UPDATE transfers SET last_error = ?2, move_attempts = move_attempts + 1, updated_at_ms = ?3
          WHERE id = ?1 AND status = 'moving'",
        params![id, error, now.as_millisecond()],
    )?;
    Ok(())
}

/// The gateway subscriptions the move cleared.
fn note_subscriptions_cleared(
    connection: &Connection,
    id: i64,
    cleared: &[ClearedSubscription],
) -> rusqlite::Result<()> {
    let list = serde_json::to_string(cleared)
        .map_err(|error| rusqlite::Error::ToSqlConversionFailure(Box::new(error)))?;
    connection.execute(
        "UPDATE transfers SET subscriptions_cleared = ?2 WHERE id = ?1",
        params![id, list],
    )?;
    Ok(())
}

/// Every step of a transfer, in order.
pub fn steps(connection: &Connection, transfer_id: i64) -> rusqlite::Result<Vec<StoredStep>> {
    let mut statement = connection.prepare_cached(
        "SELECT from_status, to_status, party, actor_client_id, actor_user_id, at_ms, checks, note
           FROM transfer_steps WHERE transfer_id = ?1 ORDER BY id",
    )?;
    let rows = statement.query_map([transfer_id], |row| {
        let checks: Option<String> = row.get(6)?;
        Ok(StoredStep {
            from: row.get(0)?,
            to: row.get(1)?,
            party: row.get(2)?,
            actor_client_id: row.get(3)?,
            actor_user_id: row.get(4)?,
            at: time_text(row.get(5)?),
            checks: checks
                .and_then(|text| serde_json::from_str(&text).ok())
                .unwrap_or_else(|| serde_json::json!([])),
            note: row.get(7)?,
        })
    })?;
    rows.collect()
}

/// The statement [`list`] runs, and its parameters.
pub(crate) fn list_statement(query: &RecordQuery) -> (String, Vec<Box<dyn rusqlite::ToSql>>) {
    query.statement(
        STORED,
        &RecordColumns {
            alias: "",
            service: "service_id =",
        },
    )
}

/// Transfers in the order they were requested.
pub fn list(connection: &Connection, query: &RecordQuery) -> rusqlite::Result<Vec<StoredTransfer>> {
    list_rows(connection, list_statement(query), stored_from_row)
}
