#!/usr/bin/env bash
# `make fuzz`: runs each fuzz target for FUZZ_SECONDS (600 by default) from
# its kept corpus (fuzz/corpus/<target>.bin), then keeps the smallest set of
# inputs that covers everything seen, which `make test` replays. A crash
# stops here: its input is in fuzz/artifacts/<target>/; fix the bug and move
# the input to fuzz/regressions/<target>/ so it is replayed for good.
#
# Usage: scripts/fuzz.sh [target ...]   (default: every target)
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${FUZZ_SECONDS:-600}"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(signature envelope whmcs_answer meta_webhook config)
fi
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
# cargo-fuzz needs nightly flags (sanitizers); the stable toolchain takes
# them with RUSTC_BOOTSTRAP. One target/ folder for everything.
export RUSTC_BOOTSTRAP=1
fuzz=(cargo fuzz run --target-dir target/fuzz)

for target in "${targets[@]}"; do
    seed="target/fuzz/seed/${target}"
    found="target/fuzz/found/${target}"
    kept="target/fuzz/kept/${target}"
    rm -rf "$seed" "$kept"
    mkdir -p "$seed" "$found" "$kept" "fuzz/artifacts/${target}"
    python3 scripts/corpus.py unpack "fuzz/corpus/${target}.bin" "$seed"
    if [ -d "fuzz/regressions/${target}" ]; then
        cp "fuzz/regressions/${target}"/* "$seed"/
    fi
    echo "== ${target}: ${seconds} s"
    "${fuzz[@]}" "$target" "$found" "$seed" -- \
        -max_total_time="$seconds" -print_final_stats=1 \
        -artifact_prefix="fuzz/artifacts/${target}/" 2>&1 |
        grep -E '^(Done|stat::number|stat::new|==|SUMMARY|.*ERROR)' || true
    if compgen -G "fuzz/artifacts/${target}/*" >/dev/null; then
        echo "${target}: failing inputs in fuzz/artifacts/${target}/" >&2
        exit 1
    fi
    "${fuzz[@]}" "$target" "$kept" "$seed" "$found" -- -merge=1 2>&1 |
        grep -E '^MERGE-OUTER: [0-9]+ new files' || true
    python3 scripts/corpus.py pack "$kept" "fuzz/corpus/${target}.bin"
done
