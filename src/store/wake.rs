//! Which worker a write leaves work for, and the write that says so.
//!
//! A store function that makes a row due for a worker (an alert planned, an
//! upgrade or cancellation retried, a transfer accepted) calls
//! [`Tx::wake`] in the same breath as its SQL; the writer wakes those
//! workers once the transaction is durable. Nobody wakes a worker by hand,
//! so none can be forgotten, and a change that rolls back wakes nobody.

use std::cell::Cell;
use std::ops::Deref;

use rusqlite::Connection;

/// The work of one worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Work {
    /// The outbox: messages to send.
    Alerts,
    /// Upgrades to apply in WHMCS.
    Upgrades,
    /// Cancellations to schedule or carry out.
    Cancellations,
    /// Transfers with a move to make.
    Transfers,
}

impl Work {
    pub const ALL: [Work; 4] = [
        Work::Alerts,
        Work::Upgrades,
        Work::Cancellations,
        Work::Transfers,
    ];

    /// Its place in [`Work::ALL`].
    pub const fn index(self) -> usize {
        self as usize
    }
}

/// The workers a commit left work for.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Wake(u8);

impl Wake {
    pub fn add(&mut self, work: Work) {
        self.0 |= 1 << work.index();
    }

    pub fn contains(self, work: Work) -> bool {
        self.0 & (1 << work.index()) != 0
    }

    /// Each worker to wake, in [`Work::ALL`] order.
    pub fn works(self) -> impl Iterator<Item = Work> {
        Work::ALL
            .into_iter()
            .filter(move |work| self.contains(*work))
    }
}

impl std::ops::BitOrAssign for Wake {
    fn bitor_assign(&mut self, other: Self) {
        self.0 |= other.0;
    }
}

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
