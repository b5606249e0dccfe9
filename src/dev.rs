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
    // Written whole beside it, then linked into place: a process (or test)
    // starting at the same moment either wins the link or reads the
    // winner's complete file, never a missing or half-written one.
    let staged = path.with_file_name(format!(
        ".{}.{}",
        path.file_name()
            .map_or_else(|| "file".into(), |name| name.to_string_lossy().into_owned()),
        ulid::Ulid::generate()
    ));
    let written = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&staged)
        .and_then(|mut file| writeln!(file, "{text}"))
        .with_context(|| format!("cannot write {}", staged.display()))
        .and_then(|()| match fs::hard_link(&staged, path) {
            Ok(()) => Ok(text),
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
                fs::read_to_string(path)
                    .map(|text| text.trim().to_owned())
                    .with_context(|| format!("cannot read {}", path.display()))
            }
            Err(error) => Err(error).with_context(|| format!("cannot create {}", path.display())),
        });
    let _ = fs::remove_file(&staged);
    written
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    #[test]
    fn starts_racing_for_one_file_all_read_the_one_that_was_written() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("data").join("dashboard.key");
        for _ in 0..20 {
            let _ = fs::remove_file(&path);
            let barrier = std::sync::Barrier::new(8);
            let texts: Vec<String> = std::thread::scope(|scope| {
                let racers: Vec<_> = (0..8)
                    .map(|racer| {
                        let (path, barrier) = (&path, &barrier);
                        scope.spawn(move || {
                            barrier.wait();
                            read_or_create(path, || Ok(format!("key-{racer}")))
                                .expect("every racer gets the key")
                        })
                    })
                    .collect();
                racers
                    .into_iter()
                    .map(|racer| racer.join().expect("racer"))
                    .collect()
            });
            let stored = fs::read_to_string(&path).expect("stored");
            assert!(
                texts.iter().all(|text| *text == stored.trim()),
                "{texts:?} against {stored:?}"
            );
            assert!(stored.starts_with("key-"), "{stored:?}");
        }
        let left: Vec<_> = fs::read_dir(path.parent().expect("folder"))
            .expect("list")
            .map(|entry| entry.expect("entry").file_name())
            .collect();
        assert_eq!(left, ["dashboard.key"], "no staged file is left behind");
    }

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
