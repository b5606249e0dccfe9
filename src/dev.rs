//! `puente serve --dev`: a hook secret and an admin token kept in the data
//! folder, so a first run needs no set-up. Never used when the operator set
//! them.

use std::fs::{self, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::config::{DEFAULT_DATABASE, Origin, Sources, data_dir_of};
use crate::signature::HookSecret;

pub const SECRET_FILE: &str = "dev-hook-secret";
pub const TOKEN_FILE: &str = "dev-admin-token";

/// The dev files in use, for the start-up message.
#[derive(Debug, Default)]
pub struct DevFiles {
    pub secret: Option<PathBuf>,
    pub admin_token: Option<PathBuf>,
}

/// Fills the hook secrets and admin token from files in the data folder
/// (creating them, readable by the owner only) where the operator set none.
pub fn fill(sources: &mut Sources) -> anyhow::Result<DevFiles> {
    let database = sources
        .get("database")
        .map(|value| PathBuf::from(value.text.trim()))
        .unwrap_or_else(|| PathBuf::from(DEFAULT_DATABASE));
    let folder = data_dir_of(&database);
    let mut files = DevFiles::default();
    if sources.get("hook_secrets").is_none() {
        let path = folder.join(SECRET_FILE);
        let text = read_or_create(&path, || {
            HookSecret::generate()
                .map(|(_, text)| text)
                .context("cannot draw random bytes for the dev secret")
        })?;
        sources.set_if_absent("hook_secrets", text, Origin::Dev(path.clone()));
        files.secret = Some(path);
    }
    if sources.get("admin_token").is_none() {
        let path = folder.join(TOKEN_FILE);
        let text = read_or_create(&path, || {
            let mut bytes = [0u8; 24];
            getrandom::fill(&mut bytes).context("cannot draw random bytes for the dev token")?;
            Ok(URL_SAFE_NO_PAD.encode(bytes))
        })?;
        sources.set_if_absent("admin_token", text, Origin::Dev(path.clone()));
        files.admin_token = Some(path);
    }
    Ok(files)
}

/// The trimmed text of the private file at `path`, created (owner-only,
/// its folder too) with `make`'s text when absent. The dashboard keeps its
/// session key this way too.
pub(crate) fn read_or_create(
    path: &Path,
    make: impl FnOnce() -> anyhow::Result<String>,
) -> anyhow::Result<String> {
    if path.exists() {
        return fs::read_to_string(path)
            .map(|text| text.trim().to_owned())
            .with_context(|| format!("cannot read {}", path.display()));
    }
    if let Some(folder) = path.parent() {
        fs::create_dir_all(folder)
            .with_context(|| format!("cannot create {}", folder.display()))?;
    }
    let text = make()?;
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    writeln!(file, "{text}").with_context(|| format!("cannot write {}", path.display()))?;
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    #[test]
    fn dev_files_are_created_once_private_and_reused() {
        let dir = std::env::temp_dir().join(format!("puente-dev-{}", std::process::id()));
        let database = dir.join("puente.db").to_string_lossy().into_owned();
        let load = || {
            let database = database.clone();
            crate::config::Config::sources(move |var| {
                (var == "PUENTE_DATABASE").then(|| database.clone())
            })
            .expect("sources")
        };
        let mut first = load();
        let files = fill(&mut first).expect("dev files");
        let secret_path = files.secret.expect("secret file used");
        assert_eq!(secret_path, dir.join(SECRET_FILE));
        let mode = fs::metadata(&secret_path)
            .expect("exists")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);

        let mut second = load();
        fill(&mut second).expect("dev files again");
        let text = |s: &Sources, key: &str| s.get(key).expect("set").text.clone();
        assert_eq!(text(&first, "hook_secrets"), text(&second, "hook_secrets"));
        assert_eq!(text(&first, "admin_token"), text(&second, "admin_token"));
        let config = crate::config::Config::from_sources(&second).expect("valid config");
        assert_eq!(config.hook_secrets.len(), 1);
        fs::remove_dir_all(dir).expect("cleanup");
    }
}
