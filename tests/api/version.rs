//! One version: the crate's (Cargo.toml) is the version of the binary, the
//! WHMCS addon (`puente_version()`: its `_config` version and every event's
//! `shim_version`), its whmcs.json and the zip `make dist` builds.

use std::path::Path;
use std::process::Command;

const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Runs a program; its standard output, trimmed.
fn run(command: &mut Command) -> String {
    let output = command.output().expect("the program runs");
    assert!(
        output.status.success(),
        "{command:?} failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .expect("UTF-8")
        .trim()
        .to_owned()
}

#[test]
fn every_place_that_names_the_version_names_the_crates() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let addon = root.join("php-shim/modules/addons/puente");

    let binary = run(Command::new(env!("CARGO_BIN_EXE_puente")).arg("--version"));
    // What puente_version() returns, from the file WHMCS loads.
    let shim = run(Command::new("php").args([
        "-r",
        "define('WHMCS', true); require $argv[1]; echo puente_version();",
        "--",
        addon
            .join("requirements.php")
            .to_str()
            .expect("a UTF-8 path"),
    ]));
    let zip = run(Command::new("python3")
        .arg(root.join("scripts/dist.py"))
        .arg("--print-name"));
    let whmcs_json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(addon.join("whmcs.json")).expect("whmcs.json"))
            .expect("whmcs.json is JSON");

    let places = [
        ("puente --version", binary, format!("puente {VERSION}")),
        (
            "puente_version() in requirements.php",
            shim,
            VERSION.to_owned(),
        ),
        (
            "the zip scripts/dist.py names",
            zip,
            format!("puente-whmcs-addon-{VERSION}.zip"),
        ),
    ];
    for (place, said, wanted) in places {
        assert_eq!(said, wanted, "{place} disagrees with Cargo.toml");
    }
    // WHMCS's whmcs.json format has no version field (developer docs
    // advanced/json-file.md); one added by hand must still agree.
    if let Some(version) = whmcs_json.get("version") {
        assert_eq!(version, VERSION, "whmcs.json disagrees with Cargo.toml");
    }
}
