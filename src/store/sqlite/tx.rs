//! One write inside the writer's group transaction, and the workers its
//! commit wakes.

use std::cell::Cell;
use std::ops::Deref;

use rusqlite::Connection;

use crate::store::wake::{Wake, Work};

/// One write inside the writer's group transaction: the connection, and
/// the workers its commit will wake. Reads through it as a [`Connection`].
pub struct Tx<'c> {
    connection: &'c Connection,
    wake: Cell<Wake>,
}

impl<'c> Tx<'c> {
    pub(super) fn new(connection: &'c Connection) -> Self {
        Self {
            connection,
            wake: Cell::new(Wake::default()),
        }
    }

    /// This write leaves work for `work`'s worker: it is woken once the
    /// transaction is durable.
    pub fn wake(&self, work: Work) {
        let mut wake = self.wake.get();
        wake.add(work);
        self.wake.set(wake);
    }

    /// The workers this write asked to wake.
    pub(super) fn woken(&self) -> Wake {
        self.wake.get()
    }
}

impl Deref for Tx<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        self.connection
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wake_holds_each_work_asked_for_and_no_other() {
        let connection = Connection::open_in_memory().expect("memory");
        let tx = Tx::new(&connection);
        assert_eq!(tx.woken().works().count(), 0);
        tx.wake(Work::Transfers);
        tx.wake(Work::Alerts);
        tx.wake(Work::Alerts);
        assert_eq!(
            tx.woken().works().collect::<Vec<_>>(),
            [Work::Alerts, Work::Transfers]
        );
        let mut merged = Wake::default();
        merged.add(Work::Upgrades);
        merged |= tx.woken();
        assert!(merged.contains(Work::Upgrades) && merged.contains(Work::Transfers));
        assert!(!merged.contains(Work::Cancellations));
    }
}
