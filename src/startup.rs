//! Builds the service from a configuration: store, workers, HTTP server.

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::{Server, ServerHandle};
use actix_web::{App, HttpServer, middleware, web};
use anyhow::Context as _;

use crate::config::Config;
use crate::domain::ids::InstanceName;
use crate::http::{self, AppState};
use crate::metrics::Metrics;
use crate::store::{Store, backends};
use crate::whmcs::{AddonClient, WhmcsClient};
use crate::workers;
use crate::workers::cancellations::CancellationWorker;
use crate::workers::outbox::Outbox;
use crate::workers::reconcile::ReconcileWorker;
use crate::workers::replies::RepliesWorker;
use crate::workers::retention::RetentionWorker;
use crate::workers::templates::{TemplateChecks, TemplateWorker};
use crate::workers::transfers::TransferWorker;
use crate::workers::upgrades::UpgradeWorker;

/// Seconds a graceful stop waits for requests in flight.
const SHUTDOWN_TIMEOUT_S: u64 = 30;

/// Every background worker: adding one is a field here, its line in
/// [`Workers::new`] and in [`Workers::spawn`].
#[derive(Clone)]
pub struct Workers {
    pub outbox: Outbox,
    pub upgrades: UpgradeWorker,
    pub cancellations: CancellationWorker,
    pub transfers: TransferWorker,
    pub retention: RetentionWorker,
    pub templates: TemplateWorker,
    pub replies: RepliesWorker,
    pub reconcile: ReconcileWorker,
}

impl Workers {
    fn new(
        config: &Arc<Config>,
        store: &Arc<dyn Store>,
        whmcs: &Arc<BTreeMap<InstanceName, WhmcsClient>>,
        addons: &Arc<BTreeMap<InstanceName, AddonClient>>,
        metrics: &Arc<Metrics>,
    ) -> anyhow::Result<Self> {
        let checks = TemplateChecks::default();
        let outbox = Outbox::new(
            Arc::clone(config),
            Arc::clone(store),
            Arc::clone(whmcs),
            Arc::clone(metrics),
            checks.clone(),
        )?;
        Ok(Self {
            reconcile: ReconcileWorker::new(
                Arc::clone(config),
                Arc::clone(store),
                Arc::clone(whmcs),
            ),
            replies: RepliesWorker::new(
                Arc::clone(config),
                Arc::clone(store),
                Arc::clone(whmcs),
                outbox.cloud_clients(),
                Arc::clone(metrics),
            ),
            outbox,
            templates: TemplateWorker::new(config, Arc::clone(store), Arc::clone(metrics), checks)?,
            upgrades: UpgradeWorker::new(Arc::clone(store), Arc::clone(whmcs), Arc::clone(metrics)),
            cancellations: CancellationWorker::new(
                Arc::clone(config),
                Arc::clone(store),
                Arc::clone(whmcs),
                Arc::clone(addons),
                Arc::clone(metrics),
            ),
            transfers: TransferWorker::new(
                Arc::clone(store),
                Arc::clone(addons),
                Arc::clone(metrics),
            ),
            retention: RetentionWorker::new(
                Arc::clone(config),
                Arc::clone(store),
                Arc::clone(metrics),
            ),
        })
    }

    /// Runs each in its loop ([`workers::run`]) until aborted.
    fn spawn(&self, metrics: &Arc<Metrics>) -> Vec<tokio::task::JoinHandle<()>> {
        vec![
            tokio::spawn(workers::run(self.outbox.clone(), Arc::clone(metrics))),
            tokio::spawn(workers::run(self.upgrades.clone(), Arc::clone(metrics))),
            tokio::spawn(workers::run(
                self.cancellations.clone(),
                Arc::clone(metrics),
            )),
            tokio::spawn(workers::run(self.transfers.clone(), Arc::clone(metrics))),
            tokio::spawn(workers::run(self.retention.clone(), Arc::clone(metrics))),
            tokio::spawn(workers::run(self.templates.clone(), Arc::clone(metrics))),
            tokio::spawn(workers::run(self.replies.clone(), Arc::clone(metrics))),
            tokio::spawn(workers::run(self.reconcile.clone(), Arc::clone(metrics))),
        ]
    }
}

/// A bound, not yet running service.
pub struct Application {
    server: Server,
    port: u16,
    store: Arc<dyn Store>,
    workers: Workers,
    metrics: Arc<Metrics>,
    /// Takes the dashboard's samples once a minute while the server runs.
    sampler: std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>,
    /// Whether `run_until_stopped` starts the workers' loops.
    run_workers: bool,
}

impl Application {
    /// Opens (and migrates) the store, starts its writer and binds the
    /// listener. Port 0 picks a free port (see [`Application::port`]).
    pub fn build(config: Config) -> anyhow::Result<Self> {
        Self::build_with(config, |_| {})
    }

    /// As [`Application::build`], with extra routes mounted beside the
    /// service's own (used by the benchmark for its baseline route).
    pub fn build_with(
        config: Config,
        extra_routes: impl Fn(&mut web::ServiceConfig) + Clone + Send + 'static,
    ) -> anyhow::Result<Self> {
        let metrics = Metrics::new();
        metrics.start_series(
            &config
                .instances
                .keys()
                .map(|name| name.as_str().to_owned())
                .collect::<Vec<_>>(),
        );
        let store = backends::open(&config, Arc::clone(&metrics))?;
        let listener = TcpListener::bind(config.listen)
            .with_context(|| format!("cannot listen on {} (PUENTE_LISTEN)", config.listen))?;
        let port = listener.local_addr()?.port();
        let config = Arc::new(config);
        let whmcs = Arc::new(crate::whmcs::clients(&config, &metrics)?);
        let addons = Arc::new(crate::whmcs::addon::clients(&config, &metrics)?);
        let workers = Workers::new(&config, &store, &whmcs, &addons, &metrics)?;
        let sampler = Box::pin(crate::dashboard::run_sampler(
            Arc::clone(&config),
            Arc::clone(&store),
            Arc::clone(&metrics),
        ));
        let shared_metrics = Arc::clone(&metrics);
        let dashboard = web::Data::new(crate::dashboard::Dashboard::new(&config)?);
        let state = web::Data::new(AppState {
            config,
            store: Arc::clone(&store),
            metrics,
            whmcs,
            addons,
            templates: workers.templates.checks().clone(),
            outbox: workers.outbox.clone(),
        });
        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .app_data(dashboard.clone())
                .wrap(middleware::from_fn(http::count_requests))
                .configure(http::routes)
                .configure(crate::dashboard::routes)
                .configure(extra_routes.clone())
                .default_service(web::to(http::not_found))
        })
        .listen(listener)?
        // Signals are the binary's business: it calls `stop` on the handle.
        .disable_signals()
        .shutdown_timeout(SHUTDOWN_TIMEOUT_S)
        .run();
        Ok(Self {
            server,
            port,
            store,
            workers,
            metrics: shared_metrics,
            sampler,
            run_workers: true,
        })
    }

    /// Leaves the outbox and the upgrade, cancellation, transfer and
    /// retention workers to whoever calls their `drain` / `purge_at` (tests
    /// do).
    pub fn without_workers(mut self) -> Self {
        self.run_workers = false;
        self
    }

    /// The background workers (tests drive their passes).
    pub fn workers(&self) -> Workers {
        self.workers.clone()
    }

    /// The store (tests look at it as a replica does).
    pub fn store(&self) -> Arc<dyn Store> {
        Arc::clone(&self.store)
    }

    /// The metrics the service records (tests take the dashboard's samples
    /// with it).
    pub fn metrics(&self) -> Arc<Metrics> {
        Arc::clone(&self.metrics)
    }

    /// The port the listener is bound to.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops the server from elsewhere: `stop(true)` finishes requests in
    /// flight first.
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until stopped, then commits what the store still holds.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let workers = if self.run_workers {
            self.workers.spawn(&self.metrics)
        } else {
            Vec::new()
        };
        let sampler = tokio::spawn(self.sampler);
        let served = self.server.await;
        sampler.abort();
        for worker in workers {
            worker.abort();
        }
        self.store
            .close()
            .await
            .context("the store did not stop cleanly")?;
        served.context("the HTTP server failed")
    }
}
