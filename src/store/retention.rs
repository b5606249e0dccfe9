//! Retention: what a purge removed, and how much one batch may.

/// Events examined per transaction: a few milliseconds of the writer, so
/// ingest never waits long behind one.
pub const BATCH: usize = 100;

/// What one batch (or a whole pass) deleted and kept.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Purged {
    pub events: usize,
    pub messages: usize,
    pub attempts: usize,
    /// Old events kept because an open rule or a record needs them.
    pub kept: usize,
}

impl Purged {
    /// The rows deleted, by the table they were deleted from.
    pub fn by_table(&self) -> [(&'static str, usize); 3] {
        [
            ("events", self.events),
            ("messages", self.messages),
            ("message_attempts", self.attempts),
        ]
    }
}

impl std::ops::AddAssign for Purged {
    fn add_assign(&mut self, other: Self) {
        self.events += other.events;
        self.messages += other.messages;
        self.attempts += other.attempts;
        self.kept += other.kept;
    }
}
