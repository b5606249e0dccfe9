//! What the dashboard reads beside the other lists: the overview figures.

/// Figures of the overview, read in one go.
#[derive(Debug, Default)]
pub struct Counts {
    pub backlog: i64,
    pub dead: i64,
    pub failed_upgrades: i64,
    pub failed_cancellations: i64,
    /// Requests made on WHMCS's own form, waiting for the client.
    pub unconfirmed_cancellations: i64,
    pub open_transfers: i64,
}
