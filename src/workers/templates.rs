//! The template check: at start-up and every hour, each instance that sends
//! through the Cloud API with a WhatsApp Business Account id has its
//! account's templates read and compared with its alert templates
//! (`domain::template_check`). What it found is kept in [`TemplateChecks`],
//! which the outbox asks before every send (a message whose template is not
//! ready is not sent), and which `/metrics` and the dashboard show.

use std::collections::BTreeMap;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use crate::config::{Config, WhatsAppMode};
use crate::domain::alerts::AlertKind;
use crate::domain::ids::InstanceName;
use crate::domain::template_check::{self, Check};
use crate::domain::templates::TemplateCatalog;
use crate::metrics::Metrics;
use crate::store::Store;
use crate::whatsapp::CloudClient;

/// How often the templates are read again.
pub const CHECK_EVERY: Duration = Duration::from_secs(3600);

/// What the last checks of one instance found.
#[derive(Debug, Clone, Default)]
pub struct InstanceCheck {
    /// The last reading that worked: when, and each template's verdict.
    pub checked: Option<(jiff::Timestamp, Vec<Check>)>,
    /// Set when the latest reading failed: when, and why.
    pub failed: Option<(jiff::Timestamp, String)>,
}

/// The checks' findings, by instance, shared by the worker that makes them
/// and everything that reads them.
#[derive(Clone, Default)]
pub struct TemplateChecks(Arc<RwLock<BTreeMap<String, InstanceCheck>>>);

impl TemplateChecks {
    /// Why a message of `kind` in `language` cannot be sent from
    /// `instance`, and what to fix; `None` when its template is ready, or
    /// when no reading of the account has worked yet (Meta then decides).
    pub fn problem(&self, instance: &str, kind: AlertKind, language: &str) -> Option<String> {
        let checks = self.0.read().unwrap_or_else(PoisonError::into_inner);
        let (_, found) = checks.get(instance)?.checked.as_ref()?;
        found
            .iter()
            .find(|check| check.kind == kind && check.language == language)
            .and_then(Check::problem)
    }

    /// Every instance's latest findings.
    pub fn snapshot(&self) -> BTreeMap<String, InstanceCheck> {
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn record(&self, instance: &str, at: jiff::Timestamp, outcome: Result<Vec<Check>, String>) {
        let mut checks = self.0.write().unwrap_or_else(PoisonError::into_inner);
        let entry = checks.entry(instance.to_owned()).or_default();
        match outcome {
            Ok(found) => {
                entry.checked = Some((at, found));
                entry.failed = None;
            }
            // The last good reading stays in force: an unreachable Graph
            // API stops nothing that was ready an hour ago.
            Err(reason) => entry.failed = Some((at, reason)),
        }
    }
}

/// One instance's account to check: its Cloud API client, the account's
/// id and the instance's alert templates.
#[derive(Clone)]
pub struct Account {
    pub client: CloudClient,
    pub waba_id: String,
    pub catalogue: Arc<TemplateCatalog>,
}

impl Account {
    /// Reads the account's templates and checks the catalogue's.
    pub async fn check(&self) -> Result<Vec<Check>, String> {
        let found = self.client.account_templates(&self.waba_id).await?;
        Ok(template_check::check(&self.catalogue, &found))
    }
}

/// The account of every instance whose templates are checked: in `cloud`
/// mode with a WhatsApp Business Account id. Others are never checked.
pub fn accounts(config: &Config) -> anyhow::Result<BTreeMap<InstanceName, Account>> {
    let mut accounts = BTreeMap::new();
    for name in config.instances.keys() {
        let rules = config.for_instance(name);
        let whatsapp = &rules.whatsapp;
        let (WhatsAppMode::Cloud, Some(waba_id)) = (whatsapp.mode, &whatsapp.business_account_id)
        else {
            continue;
        };
        if let Some(client) = CloudClient::new(whatsapp)? {
            accounts.insert(
                name.clone(),
                Account {
                    client,
                    waba_id: waba_id.clone(),
                    catalogue: Arc::clone(&rules.alert_templates),
                },
            );
        }
    }
    Ok(accounts)
}

/// The worker that reads the templates.
#[derive(Clone)]
pub struct TemplateWorker {
    store: Arc<dyn Store>,
    metrics: Arc<Metrics>,
    checks: TemplateChecks,
    instances: Arc<BTreeMap<InstanceName, Account>>,
}

impl TemplateWorker {
    /// Checks the [`accounts`], recording each call's outcome for the
    /// dashboard's connections.
    pub fn new(
        config: &Config,
        store: Arc<dyn Store>,
        metrics: Arc<Metrics>,
        checks: TemplateChecks,
    ) -> anyhow::Result<Self> {
        let instances = accounts(config)?
            .into_iter()
            .map(|(name, account)| {
                let health =
                    crate::metrics::LinkHealth::new(&metrics, &name, crate::metrics::Link::Meta);
                let client = account.client.clone().with_health(health);
                (name, Account { client, ..account })
            })
            .collect();
        Ok(Self {
            store,
            metrics,
            checks,
            instances: Arc::new(instances),
        })
    }

    /// What the checks found so far.
    pub fn checks(&self) -> &TemplateChecks {
        &self.checks
    }

    /// Checks every instance once; says how many were read.
    pub async fn check_all(&self, now: jiff::Timestamp) -> usize {
        let mut read = 0;
        for (name, instance) in self.instances.iter() {
            let outcome = instance.check().await;
            match &outcome {
                Ok(found) => {
                    read += 1;
                    let problems = found
                        .iter()
                        .filter(|check| check.problem().is_some())
                        .count();
                    if problems > 0 {
                        tracing::warn!(
                            instance = %name,
                            problems,
                            "WhatsApp templates not ready at Meta: their alerts are not sent \
                             (`puente templates check` lists them)"
                        );
                    }
                    self.metrics.record_template_check(
                        name.as_str(),
                        found.iter().map(|check| check.verdict.state()),
                        now.as_second(),
                    );
                }
                Err(reason) => {
                    tracing::warn!(instance = %name, %reason, "cannot read the WhatsApp templates");
                }
            }
            self.checks.record(name.as_str(), now, outcome);
        }
        read
    }
}

impl super::Worker for TemplateWorker {
    const NAME: &'static str = "templates";
    const WORK: Option<crate::store::Work> = None;

    fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    async fn pass(&self) -> anyhow::Result<super::Pass> {
        self.check_all(jiff::Timestamp::now()).await;
        Ok(super::Pass {
            more: false,
            rest: CHECK_EVERY,
        })
    }
}
