//! What every handler can reach: the configuration, the store, the metrics
//! and each instance's WHMCS and addon clients.

use std::sync::Arc;

use super::error::ApiError;
use crate::config::Config;
use crate::metrics::Metrics;
use crate::store::Store;

/// What every handler can reach.
pub struct AppState {
    /// The configuration the service started with.
    pub config: Arc<Config>,
    /// Every event and record, on whichever backend runs.
    pub store: Arc<dyn Store>,
    pub metrics: Arc<Metrics>,
    /// WHMCS API clients by instance (`AppState::whmcs_of`,
    /// `AppState::links_of`).
    pub whmcs: Arc<
        std::collections::BTreeMap<crate::domain::ids::InstanceName, crate::whmcs::WhmcsClient>,
    >,
    /// The addons' signed `action.php` by instance: what the API cannot say.
    pub addons: Arc<
        std::collections::BTreeMap<crate::domain::ids::InstanceName, crate::whmcs::AddonClient>,
    >,
    /// What the last readings of each account's WhatsApp templates found.
    pub templates: crate::workers::templates::TemplateChecks,
    /// The outbox, for previews of manual sends (the worker runs apart).
    pub outbox: crate::workers::outbox::Outbox,
}

impl AppState {
    /// The instance's WHMCS API and its addon's `action.php`, both needed
    /// (503 `whmcs_unavailable` when it has no WHMCS settings).
    pub fn whmcs_of(
        &self,
        instance: &crate::domain::ids::InstanceName,
    ) -> Result<(&crate::whmcs::WhmcsClient, &crate::whmcs::AddonClient), ApiError> {
        match self.links_of(instance) {
            (Some(whmcs), Some(addon)) => Ok((whmcs, addon)),
            _ => Err(ApiError::WhmcsUnavailable(format!(
                "instance {instance} has no WHMCS API settings (PUENTE_WHMCS_URL, …)"
            ))),
        }
    }

    /// The instance's WHMCS API and its addon's `action.php`, each as far
    /// as it is set up: for the diagnostics, which report what is missing.
    pub fn links_of(
        &self,
        instance: &crate::domain::ids::InstanceName,
    ) -> (
        Option<&crate::whmcs::WhmcsClient>,
        Option<&crate::whmcs::AddonClient>,
    ) {
        (self.whmcs.get(instance), self.addons.get(instance))
    }

    /// The installation's `timezone` (UTC for an instance not configured).
    pub fn timezone_of(&self, instance: &crate::domain::ids::InstanceName) -> jiff::tz::TimeZone {
        self.config.timezone_of(instance)
    }

    /// The installation's calendar day at `at`, in its `timezone`.
    pub fn local_date(
        &self,
        instance: &crate::domain::ids::InstanceName,
        at: jiff::Timestamp,
    ) -> jiff::civil::Date {
        self.timezone_of(instance).to_datetime(at).date()
    }
}
