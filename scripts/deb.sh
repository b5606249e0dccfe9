#!/usr/bin/env bash
# `make deb`: the Debian package, <target>/debian/puente_<version>-1_<arch>.deb.
# Installs cargo-deb (cargo) and lintian (apt) when missing, builds the
# release binary and the package from Cargo.toml's [package.metadata.deb]
# and packaging/debian/, then checks it: lintian with no error or warning
# (the few accepted ones are overridden, with reasons, in
# packaging/debian/puente.lintian-overrides), and the unit as installed by
# the package through `systemd-analyze verify` and `systemd-analyze security`
# (exposure at most 1.5).
set -euo pipefail
cd "$(dirname "$0")/.."

cargo=${CARGO:-cargo}
target=${CARGO_TARGET_DIR:-target}
arch=$(dpkg --print-architecture)
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n1)
deb=$target/debian/puente_${version}-1_${arch}.deb
apt_install() {
    [ "$(id -u)" = 0 ] || { echo "deb: $* missing; install it (apt-get install $*) or run as root" >&2; exit 1; }
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

command -v cargo-deb >/dev/null || "$cargo" install --locked cargo-deb --version '^3.8'
command -v lintian >/dev/null || apt_install lintian
command -v systemd-analyze >/dev/null || apt_install systemd

# The package's version is the crate's plus "-1": the changelog must say so.
if ! head -n1 packaging/debian/changelog | grep -qF "puente (${version}-1)"; then
    echo "deb: packaging/debian/changelog does not start with puente (${version}-1); add an entry" >&2
    exit 1
fi

"$cargo" deb --output "$deb"

echo "== lintian $(lintian --version | awk '{ print $2 }')"
lintian --fail-on error,warning "$deb"
echo "lintian: no error, no warning"

# The unit as the package installs it, against this machine's systemd units
# (targets, slices) and the package's own binary and man page.
check_root=$target/debian/unit-check
rm -rf "$check_root"
dpkg-deb -x "$deb" "$check_root"
cp -an /usr/lib/systemd/system/. "$check_root/usr/lib/systemd/system/"
echo "== systemd-analyze verify puente.service"
MANPATH=$check_root/usr/share/man systemd-analyze verify --root="$check_root" puente.service
echo "systemd-analyze verify: no problem"
echo "== systemd-analyze security puente.service"
MANPATH=$check_root/usr/share/man systemd-analyze security --offline=yes --root="$check_root" \
    --threshold=15 --no-pager puente.service | grep -E '✗|Overall exposure'
rm -rf "$check_root"
echo "deb: $deb"
