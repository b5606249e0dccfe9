#!/usr/bin/env bash
# Installs what `make test` needs, and nothing twice: Debian packages only
# when missing (one `apt-get update` first), the Rust lint components, and a
# Python venv in .venv with the Standard Webhooks reference library.
#
# PHP: the shim runs on php-cli with curl (delivery), sqlite3 (Capsule's
# driver in the stand-in WHMCS database) and mbstring (Illuminate needs it);
# phpunit, php-illuminate-database and smarty3 (the Smarty 3.1 line the
# addon's templates are rendered with in the tests) are Debian's, so no
# Composer. chromium and chromium-driver run the dashboard's browser test
# (headless, driven over WebDriver). The addon's PHP floor test runs real
# PHP 7.2 and 8.1 interpreters (WebAssembly builds, @php-wasm/node from the
# npm registry) on Node.js 20, kept in php-shim/tests/floor/node_modules.
# postgresql (Debian 12's is 15) gives the store's tests a private server
# of their own (scripts/with-postgres.sh); no system cluster is used.
# prometheus is installed for its promtool only (`make rules-test` checks
# and unit-tests contrib/prometheus/puente.rules.yml), without its
# recommended node exporter; nothing uses its daemon. On a machine booted
# with systemd, installing it (as postgresql) starts a Prometheus on port
# 9090: harmless on a CI runner; elsewhere `systemctl disable --now
# prometheus` stops it, and promtool still works.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_packages=(python3-venv php-cli php-curl php-sqlite3 php-mbstring phpunit
    php-illuminate-database smarty3 chromium chromium-driver postgresql)

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

missing=()
for package in "${apt_packages[@]}"; do
    # python3-venv is only needed where python3 cannot make a venv by itself.
    if [ "$package" = python3-venv ] && python3 -m venv --help >/dev/null 2>&1; then
        continue
    fi
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
        || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing Debian packages: ${missing[*]}"
    as_root apt-get update
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
fi

for component in rustfmt clippy; do
    if ! rustup component list --installed 2>/dev/null | grep -q "^$component"; then
        rustup component add "$component"
    fi
done

if ! command -v promtool >/dev/null 2>&1; then
    echo "installing Debian's prometheus (for promtool)"
    as_root apt-get update
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus
fi

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "installing Node.js and npm (the PHP floor test)"
    as_root apt-get update
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y nodejs npm
fi
floor=php-shim/tests/floor
if ! cmp -s "$floor/package-lock.json" "$floor/node_modules/.installed-lock" 2>/dev/null; then
    echo "installing the PHP interpreters of the floor test in $floor/node_modules"
    npm ci --prefix "$floor" --no-audit --no-fund --loglevel=error
    cp "$floor/package-lock.json" "$floor/node_modules/.installed-lock"
fi

requirements=tests/interop/requirements.txt
stamp=.venv/.installed-requirements
if ! cmp -s "$requirements" "$stamp" 2>/dev/null; then
    echo "creating the Python venv in .venv"
    python3 -m venv .venv
    .venv/bin/pip install --quiet --disable-pip-version-check -r "$requirements"
    cp "$requirements" "$stamp"
fi
