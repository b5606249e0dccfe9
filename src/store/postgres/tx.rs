//! One write on PostgreSQL: a transaction, and the workers its commit
//! wakes, here and on every other replica (`NOTIFY`).

use std::ops::Deref;
use std::sync::Mutex;

use crate::store::wake::{Signals, Wake, Work};

/// The channel every replica listens on for work left by another's commit.
pub(super) const CHANNEL: &str = "puente_work";

/// A transaction, and the work its commit leaves. Reads and writes
/// through it as a [`deadpool_postgres::Transaction`].
pub(super) struct Tx<'c> {
    transaction: deadpool_postgres::Transaction<'c>,
    wake: Mutex<Wake>,
}

impl<'c> Tx<'c> {
    pub(super) async fn begin(
        client: &'c mut deadpool_postgres::Client,
    ) -> Result<Self, tokio_postgres::Error> {
        Ok(Self {
            transaction: client.transaction().await?,
            wake: Mutex::new(Wake::default()),
        })
    }

    /// This write leaves work for `work`'s worker: it is woken once the
    /// transaction is committed, on this replica and the others.
    pub(super) fn wake(&self, work: Work) {
        self.wake
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .add(work);
    }

    /// Commits; then wakes the workers it left work for. The other
    /// replicas learn of it from the `NOTIFY`, which PostgreSQL delivers at
    /// the commit and never for a transaction that rolled back.
    pub(super) async fn commit(self, signals: &Signals) -> Result<(), tokio_postgres::Error> {
        let wake = *self
            .wake
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if wake != Wake::default() {
            self.transaction
                .execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &payload(wake)])
                .await?;
        }
        self.transaction.commit().await?;
        signals.wake(wake);
        Ok(())
    }
}

impl<'c> Deref for Tx<'c> {
    type Target = deadpool_postgres::Transaction<'c>;

    fn deref(&self) -> &Self::Target {
        &self.transaction
    }
}

/// The works of a wake as a `NOTIFY` payload: their names, comma-separated.
pub(super) fn payload(wake: Wake) -> String {
    wake.works().map(Work::name).collect::<Vec<_>>().join(",")
}

/// The wake a `NOTIFY` payload names (unknown names are left out).
pub(super) fn parse_payload(payload: &str) -> Wake {
    let mut wake = Wake::default();
    for name in payload.split(',') {
        if let Some(work) = Work::ALL.into_iter().find(|work| work.name() == name) {
            wake.add(work);
        }
    }
    wake
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payload_names_each_work_and_reads_back_the_same_wake() {
        let mut wake = Wake::default();
        wake.add(Work::Alerts);
        wake.add(Work::Transfers);
        assert_eq!(payload(wake), "alerts,transfers");
        assert_eq!(parse_payload(&payload(wake)), wake);
        assert_eq!(parse_payload("alerts,unknown"), {
            let mut alerts = Wake::default();
            alerts.add(Work::Alerts);
            alerts
        });
        assert_eq!(parse_payload(""), Wake::default());
    }
}
