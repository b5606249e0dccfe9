//! What the integration tests share: the running app and its requests
//! (`app`), the fake WHMCS of the rule tests (`fake_whmcs`), the fixtures
//! read one way (`fixtures`), and the app wired to a fake WHMCS with the
//! events the rule tests fire (`world`).

pub mod app;
pub mod database;
pub mod fake_whmcs;
pub mod fixtures;
pub mod world;

pub use app::*;
pub use database::SqlValue;
pub use fixtures::*;
pub use world::*;
