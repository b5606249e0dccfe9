#!/usr/bin/env bash
# `make bench`, shim part: starts the release binary on a scratch database
# and measures the time the addon adds to a WHMCS hook (php-shim/bench/).
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --quiet --bin puente
scratch=$(mktemp -d)
secret=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
PUENTE_LISTEN=127.0.0.1:0 PUENTE_DATABASE="$scratch/bench.db" PUENTE_HOOK_SECRETS="$secret" \
    ./target/release/puente serve 2>"$scratch/service.log" &
service=$!
trap 'kill "$service" 2>/dev/null; wait "$service" 2>/dev/null; rm -rf "$scratch"' EXIT

address=""
for _ in $(seq 1 200); do
    address=$(grep -o 'address=[0-9.:]*' "$scratch/service.log" | head -1 | cut -d= -f2 || true)
    [ -n "$address" ] && break
    sleep 0.05
done
if [ -z "$address" ]; then
    echo "the service did not start:" >&2
    cat "$scratch/service.log" >&2
    exit 1
fi
PUENTE_SECRET="$secret" php php-shim/bench/hook-latency.php "http://$address" "$scratch"
