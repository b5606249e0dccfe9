//! puente: verifies, stores and applies the rules to WHMCS hook events.

pub mod cli;
pub mod config;
pub mod dashboard;
pub mod dev;
pub mod diagnostics;
pub mod domain;
pub mod fuzzing;
pub mod http;
pub mod ingest;
pub mod metrics;
pub mod quote;
pub mod signature;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod whatsapp;
pub mod whmcs;
pub mod workers;

/// mimalloc instead of glibc's allocator. Each hook event is allocated by
/// an HTTP worker and outlives its request while the writer commits it, so
/// dozens are in flight per worker and come back in bursts of a commit;
/// glibc's per-thread cache holds seven chunks of a size, and the rest went
/// through its locked slow path (`_int_free`, `malloc_consolidate`), a
/// tenth of the workers' time. With mimalloc: HTTP CPU 25 -> 19 µs per
/// event, 64-connection ingest ~32k -> ~39k events/s (`make bench`).
/// Built with `no_thp`: with transparent huge pages its segments took
/// 2 MiB pages and the idle service's memory doubled (12 -> 25 MiB).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
