//! The `messages` table (the alert outbox) on PostgreSQL; see its SQLite
//! twin for the rules each statement keeps.

use deadpool_postgres::GenericClient;
use tokio_postgres::Row;

use super::sql::{Filter, PgError, PgResult, sql_integer};
use super::tx::Tx;
use crate::domain::alerts::{AlertKind, Coalesce, PlannedAlert, Recipient};
use crate::domain::ids::InstanceName;
use crate::domain::status::MessageStatus;
use crate::store::Work;
use crate::store::messages::{
    Attempt, COALESCED, DueMessage, MessageQuery, Outcome, Retry, Settled, StoredMessage,
    details_column, details_of, subject_columns,
};

const RECENT_IN_GROUP: &str = "SELECT EXISTS (SELECT 1 FROM messages
                                WHERE instance = $1 AND coalesce_group = $2 AND planned_at_ms >= $3)";
const INSERT: &str = "INSERT INTO messages (event_seq, instance, kind, client_id, subject_kind, subject_id,
                                           previous_phone, previous_country, dedupe_key, coalesce_group,
                                           status, reason, planned_at_ms, details)
                      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
                      ON CONFLICT (instance, dedupe_key) DO NOTHING";

/// Stores one alert planned by the event `event_seq`: `planned`, or
/// `skipped` when its group already had an alert within the window; a key
/// already stored adds nothing. Wakes the outbox when a `planned` row was
/// added, and says so.
///
/// Two replicas may plan alerts of one group at once: a transaction-scoped
/// advisory lock on the group makes the second wait for the first's commit
/// and see its row, as SQLite's single writer does by itself.
pub async fn plan(
    tx: &Tx<'_>,
    event_seq: i64,
    instance: &str,
    alert: &PlannedAlert,
    now: jiff::Timestamp,
) -> PgResult<bool> {
    let now_ms = now.as_millisecond();
    let group = alert
        .coalesce
        .as_ref()
        .map(|coalesce| coalesce.group.as_str());
    let coalesced = match &alert.coalesce {
        Some(Coalesce {
            group,
            skip_within: Some(window),
        }) => {
            tx.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended($1 || ' ' || $2, 0))",
                &[&instance, group],
            )
            .await?;
            let since =
                now_ms.saturating_sub(i64::try_from(window.as_millis()).unwrap_or(i64::MAX));
            let statement = tx.prepare_cached(RECENT_IN_GROUP).await?;
            tx.query_one(&statement, &[&instance, group, &since])
                .await?
                .try_get::<_, bool>(0)?
        }
        _ => false,
    };
    let (subject_kind, subject_id) = subject_columns(alert.subject);
    let (previous_phone, previous_country) = match &alert.recipient {
        Recipient::Current => (None, None),
        Recipient::Previous { phone, country } => (Some(phone.as_str()), Some(country.as_str())),
    };
    let status = if coalesced {
        MessageStatus::Skipped
    } else {
        MessageStatus::Planned
    };
    let statement = tx.prepare_cached(INSERT).await?;
    let added = tx
        .execute(
            &statement,
            &[
                &event_seq,
                &instance,
                &alert.kind.as_str(),
                &alert.client_id.map(sql_integer),
                &subject_kind,
                &subject_id.map(sql_integer),
                &previous_phone,
                &previous_country,
                &alert.dedupe_key,
                &group,
                &status.as_str(),
                &coalesced.then_some(COALESCED),
                &now_ms,
                &details_column(&alert.details),
            ],
        )
        .await?;
    let planned = added == 1 && !coalesced;
    if planned {
        tx.wake(Work::Alerts);
    }
    Ok(planned)
}
