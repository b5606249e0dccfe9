//! The `transfers` table and its audit trail `transfer_steps` on
//! PostgreSQL: the request recorded with the owner's event, each later step
//! as a change that moves the status only from where the step starts (a
//! step that lost a race changes nothing), the worker's reads, and the
//! API's lists.

use deadpool_postgres::GenericClient;
use tokio_postgres::Row;

use super::sql::{
    AnyStatus, PgError, PgResult, RELEASE, RecordColumns, Value, holds, list_rows,
    record_statement, renew, sql_integer,
};
use super::tx::Tx;
use crate::domain::alerts::AlertKind;
use crate::domain::ids::InstanceName;
use crate::domain::plan::Plan;
use crate::domain::templates::Parameter;
use crate::domain::transfer::{Check, ClearedSubscription, NewTransfer, Party, Status};
use crate::store::Held;
use crate::store::RecordQuery;
use crate::store::TransferStep;
use crate::store::Work;
use crate::store::sql::time_text;
use crate::store::transfers::{StoredStep, StoredTransfer, alert_names, client_alert};

/// The statuses of a service's one open transfer, as SQL (the same text as
/// the partial unique index `transfers_one_open`).
const OPEN: AnyStatus<Status> = AnyStatus(Status::OPEN);

/// The table of the rule's records; each row keeps the event that planned
/// it from retention (the record is the account's history).
pub(super) const TABLE: &str = "transfers";

/// The rule's part of the plan.
pub(super) fn planned(plan: &Plan) -> &[NewTransfer] {
    &plan.transfers
}

/// The owner's request; its id, or no row when the service already has an
/// open transfer.
static INSERT: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "INSERT INTO transfers
                (event_seq, instance, service_id, service_name, service_domain, domain_id,
                 owner_client_id, recipient_client_id, recipient_email, approval, status,
                 requested_at_ms, expires_at_ms, updated_at_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'requested', $11, $12, $13)
         ON CONFLICT (instance, service_id) WHERE {OPEN} DO NOTHING
         RETURNING id"
    )
});

/// Writes one transfer planned by the event `event_seq`: records the
/// request, its first step and the recipient's alert; nothing when the
/// service already has an open transfer.
pub(super) async fn record(
    tx: &Tx<'_>,
    event_seq: i64,
    instance: &InstanceName,
    transfer: &NewTransfer,
    now: jiff::Timestamp,
) -> PgResult<()> {
    let statement = tx.prepare_cached(&INSERT).await?;
    let added = tx
        .query_opt(
            &statement,
            &[
                &event_seq,
                &instance.as_str(),
                &sql_integer(transfer.service_id),
                &transfer.service_name,
                &transfer.service_domain,
                &transfer.domain_id.map(sql_integer),
                &sql_integer(transfer.owner_client_id),
                &sql_integer(transfer.recipient_client_id),
                &transfer.recipient_email,
                &transfer.approval.as_str(),
                &transfer.requested_at.as_millisecond(),
                &transfer.expires_at.as_millisecond(),
                &now.as_millisecond(),
            ],
        )
        .await?;
    let Some(added) = added else {
        return Ok(());
    };
    let id: i64 = added.try_get(0)?;
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
    )
    .await?;
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
    super::messages::plan(tx, event_seq, instance.as_str(), &alert, now).await?;
    Ok(())
}

const INSERT_STEP: &str =
    "INSERT INTO transfer_steps (transfer_id, from_status, to_status, party, actor_client_id,
                                                      actor_user_id, at_ms, checks, note)
                           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";

#[allow(clippy::too_many_arguments)]
async fn record_step(
    tx: &Tx<'_>,
    transfer_id: i64,
    from: Option<Status>,
    to: Status,
    party: Party,
    actor_client_id: Option<u64>,
    actor_user_id: Option<u64>,
    checks: &[Check],
    note: Option<&str>,
    now: jiff::Timestamp,
) -> PgResult<()> {
    let checks = (!checks.is_empty())
        .then(|| serde_json::to_string(checks))
        .transpose()
        .map_err(|error| PgError::Data(format!("the checks of a transfer step: {error}")))?;
    let statement = tx.prepare_cached(INSERT_STEP).await?;
    tx.execute(
        &statement,
        &[
            &transfer_id,
            &from.map(Status::as_str),
            &to.as_str(),
            &party.as_str(),
            &actor_client_id.map(sql_integer),
            &actor_user_id.map(sql_integer),
            &now.as_millisecond(),
            &checks,
            &note,
        ],
    )
    .await?;
    Ok(())
}

const STORED: &str = "SELECT id, event_seq, instance, service_id, service_name, service_domain,
            domain_id, owner_client_id, recipient_client_id, recipient_email, approval, status,
            requested_at_ms, expires_at_ms, move_attempts, last_error, subscriptions_cleared
       FROM transfers";

fn stored_from_row(row: &Row) -> PgResult<StoredTransfer> {
    let expires_at_ms: i64 = row.try_get(13)?;
    Ok(StoredTransfer {
        id: row.try_get(0)?,
        lease: 0,
        event_seq: row.try_get(1)?,
        instance: row.try_get(2)?,
        service_id: row.try_get(3)?,
        service_name: row.try_get(4)?,
        service_domain: row.try_get(5)?,
        domain_id: row.try_get(6)?,
        owner_client_id: row.try_get(7)?,
        recipient_client_id: row.try_get(8)?,
        recipient_email: row.try_get(9)?,
        approval: row.try_get(10)?,
        status: row.try_get(11)?,
        requested_at: time_text(row.try_get(12)?),
        expires_at: time_text(expires_at_ms),
        expires_at_ms,
        move_attempts: row.try_get(14)?,
        last_error: row.try_get(15)?,
        subscriptions_cleared: row
            .try_get::<_, Option<String>>(16)?
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or_default(),
    })
}

/// One transfer of an instance.
pub async fn get(
    client: &impl GenericClient,
    instance: &str,
    id: i64,
) -> PgResult<Option<StoredTransfer>> {
    let statement = client
        .prepare_cached(&format!("{STORED} WHERE instance = $1 AND id = $2"))
        .await?;
    client
        .query_opt(&statement, &[&instance, &id])
        .await?
        .as_ref()
        .map(stored_from_row)
        .transpose()
}

/// One transfer, whatever its instance (the admin API).
pub async fn by_id(client: &impl GenericClient, id: i64) -> PgResult<Option<StoredTransfer>> {
    let statement = client
        .prepare_cached(&format!("{STORED} WHERE id = $1"))
        .await?;
    client
        .query_opt(&statement, &[&id])
        .await?
        .as_ref()
        .map(stored_from_row)
        .transpose()
}

/// The transfer the owner's request (its event) recorded.
pub async fn by_event(
    client: &impl GenericClient,
    event_id: &str,
) -> PgResult<Option<StoredTransfer>> {
    let statement = client
        .prepare_cached(&format!(
            "{STORED} WHERE event_seq = (SELECT seq FROM events WHERE id = $1)"
        ))
        .await?;
    client
        .query_opt(&statement, &[&event_id])
        .await?
        .as_ref()
        .map(stored_from_row)
        .transpose()
}

/// Whether the service has an open transfer.
pub async fn open_for_service(
    client: &impl GenericClient,
    instance: &str,
    service_id: u64,
) -> PgResult<bool> {
    let statement = client
        .prepare_cached(&format!(
            "SELECT EXISTS (SELECT 1 FROM transfers WHERE instance = $1 AND service_id = $2 AND ({OPEN}))"
        ))
        .await?;
    Ok(client
        .query_one(&statement, &[&instance, &sql_integer(service_id)])
        .await?
        .try_get(0)?)
}

/// Every open transfer, oldest first, taken for `owner` (the worker's pass).
pub async fn open(tx: &Tx<'_>, owner: &str) -> PgResult<Vec<StoredTransfer>> {
    let rows = super::sql::claim(
        &**tx,
        "transfers",
        &OPEN.to_string(),
        "id",
        None,
        "t.id, t.event_seq, t.instance, t.service_id, t.service_name, t.service_domain,
         t.domain_id, t.owner_client_id, t.recipient_client_id, t.recipient_email, t.approval,
         t.status, t.requested_at_ms, t.expires_at_ms, t.move_attempts, t.last_error,
         t.subscriptions_cleared, t.lease_epoch",
        owner,
        &[],
    )
    .await?;
    let mut open = rows
        .iter()
        .map(|row| {
            Ok(StoredTransfer {
                lease: row.try_get(17)?,
                ..stored_from_row(row)?
            })
        })
        .collect::<PgResult<Vec<_>>>()?;
    open.sort_by_key(|transfer| transfer.id);
    Ok(open)
}

/// A client's transfers: those they asked for, and those addressed to them.
pub async fn of_client(
    client: &impl GenericClient,
    instance: &str,
    client_id: u64,
) -> PgResult<(Vec<StoredTransfer>, Vec<StoredTransfer>)> {
    Ok((
        of_client_as(client, instance, "owner_client_id", client_id).await?,
        of_client_as(client, instance, "recipient_client_id", client_id).await?,
    ))
}

/// The client's last 50 transfers where `column` names them.
async fn of_client_as(
    client: &impl GenericClient,
    instance: &str,
    column: &str,
    client_id: u64,
) -> PgResult<Vec<StoredTransfer>> {
    let statement = client
        .prepare_cached(&format!(
            "{STORED} WHERE instance = $1 AND {column} = $2 ORDER BY id DESC LIMIT 50"
        ))
        .await?;
    client
        .query(&statement, &[&instance, &sql_integer(client_id)])
        .await?
        .iter()
        .map(stored_from_row)
        .collect()
}

const STEP: &str = "UPDATE transfers
                       SET status = $3, updated_at_ms = $4,
                           move_attempts = move_attempts + $5,
                           last_error = CASE WHEN $3 = 'failed' THEN $6 ELSE last_error END
                     WHERE id = $1 AND status = $2";

/// [`STEP`] by the worker: only while `$7` still holds the transfer with
/// epoch `$8`, renewing the lease.
static HELD_STEP: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "UPDATE transfers
            SET status = $3, updated_at_ms = $4,
                move_attempts = move_attempts + $5,
                last_error = CASE WHEN $3 = 'failed' THEN $6 ELSE last_error END,
                {}
          WHERE id = $1 AND status = $2 AND {}",
        renew(),
        holds(7, 8)
    )
});

/// Moves a transfer from `from` to `to` and records the step with who
/// took it, the preconditions checked and a note; with `alert`, plans it.
/// False when the transfer is no longer at `from`, or a worker's step when
/// `owner` no longer holds it (nothing is written).
pub async fn take_step(tx: &Tx<'_>, owner: &str, step: &TransferStep) -> PgResult<bool> {
    let TransferStep {
        transfer,
        held,
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
        note_subscriptions_cleared(tx, transfer.id, subscriptions_cleared).await?;
    }
    let moves = i64::from(matches!(to, Status::Moving));
    let (from_name, to_name, now_ms) = (from.as_str(), to.as_str(), now.as_millisecond());
    let changed = match held {
        None => {
            let statement = tx.prepare_cached(STEP).await?;
            tx.execute(
                &statement,
                &[&transfer.id, &from_name, &to_name, &now_ms, &moves, &note],
            )
            .await?
        }
        Some(held) => {
            let statement = tx.prepare_cached(&HELD_STEP).await?;
            tx.execute(
                &statement,
                &[
                    &transfer.id,
                    &from_name,
                    &to_name,
                    &now_ms,
                    &moves,
                    &note,
                    &owner,
                    &held.epoch,
                ],
            )
            .await?
        }
    };
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
    )
    .await?;
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
                super::messages::plan(tx, transfer.event_seq, &transfer.instance, &planned, now)
                    .await?;
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
pub async fn note_move_failure(
    tx: &Tx<'_>,
    owner: &str,
    transfer: Held,
    error: &str,
    now: jiff::Timestamp,
) -> PgResult<()> {
    let statement = tx
        .prepare_cached(&format!(
            "UPDATE transfers SET last_error = $2, move_attempts = move_attempts + 1, updated_at_ms = $3,
                    {RELEASE}
              WHERE id = $1 AND status = 'moving' AND {}",
            holds(4, 5)
        ))
        .await?;
    tx.execute(
        &statement,
        &[
            &transfer.id,
            &error,
            &now.as_millisecond(),
            &owner,
            &transfer.epoch,
        ],
    )
    .await?;
    Ok(())
}

/// The gateway subscriptions the move cleared.
async fn note_subscriptions_cleared(
    tx: &Tx<'_>,
    id: i64,
    cleared: &[ClearedSubscription],
) -> PgResult<()> {
    let list = serde_json::to_string(cleared)
        .map_err(|error| PgError::Data(format!("the subscriptions a move cleared: {error}")))?;
    let statement = tx
        .prepare_cached("UPDATE transfers SET subscriptions_cleared = $2 WHERE id = $1")
        .await?;
    tx.execute(&statement, &[&id, &list]).await?;
    Ok(())
}

/// Every step of a transfer, in order.
pub async fn steps(client: &impl GenericClient, transfer_id: i64) -> PgResult<Vec<StoredStep>> {
    let statement = client
        .prepare_cached(
            "SELECT from_status, to_status, party, actor_client_id, actor_user_id, at_ms, checks, note
               FROM transfer_steps WHERE transfer_id = $1 ORDER BY id",
        )
        .await?;
    client
        .query(&statement, &[&transfer_id])
        .await?
        .iter()
        .map(|row| -> PgResult<StoredStep> {
            let checks: Option<String> = row.try_get(6)?;
            Ok(StoredStep {
                from: row.try_get(0)?,
                to: row.try_get(1)?,
                party: row.try_get(2)?,
                actor_client_id: row.try_get(3)?,
                actor_user_id: row.try_get(4)?,
                at: time_text(row.try_get(5)?),
                checks: checks
                    .and_then(|text| serde_json::from_str(&text).ok())
                    .unwrap_or_else(|| serde_json::json!([])),
                note: row.try_get(7)?,
            })
        })
        .collect()
}

/// The statement [`list`] runs, and its parameters.
pub(super) fn list_statement(query: &RecordQuery) -> (String, Vec<Value>) {
    record_statement(
        query,
        STORED,
        &RecordColumns {
            alias: "",
            service: "service_id =",
        },
    )
}

/// Transfers in the order they were requested.
pub async fn list(
    client: &impl GenericClient,
    query: &RecordQuery,
) -> PgResult<Vec<StoredTransfer>> {
    list_rows(client, list_statement(query), stored_from_row).await
}
