#!/usr/bin/env bash
# Build every fuzz target and run each for SECONDS (default 20).
# Prints one line per target: "fuzz <target>: <execs> execs, <crashes> crashes"
# and exits non-zero if any target crashed (or failed to build).
#
# Stable toolchain: cargo-fuzz passes -Zsanitizer=address, so RUSTC_BOOTSTRAP=1 is set.
set -u
seconds="${1:-20}"
cd "$(dirname "$0")"

if ! command -v cargo-fuzz >/dev/null 2>&1; then
    cargo install cargo-fuzz || exit 2
fi
export RUSTC_BOOTSTRAP=1

targets=$(cargo fuzz list) || exit 2
# Seed the corpora from real MRT messages once (skipped when the samples are absent).
if [ ! -d corpus/message ]; then
    (cd ../.. && cargo run -q -p bgp --example fuzz_seeds -- bgp/fuzz/corpus) || true
fi
cargo fuzz build || exit 2

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
failed=0
for target in $targets; do
    mkdir -p "artifacts/$target" "corpus/$target"
    before=$(find "artifacts/$target" -type f | wc -l)
    cargo fuzz run "$target" -- \
        -max_total_time="$seconds" -print_final_stats=1 >"$logs/$target.log" 2>&1
    status=$?
    after=$(find "artifacts/$target" -type f | wc -l)
    crashes=$((after - before))
    if [ "$status" -ne 0 ] && [ "$crashes" -eq 0 ]; then
        crashes=1
    fi
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$logs/$target.log" | tail -n 1 | grep -o '[0-9]*$')
    echo "fuzz $target: ${execs:-0} execs, $crashes crashes"
    if [ "$crashes" -ne 0 ]; then
        failed=1
        grep -m 5 -E 'panicked|ERROR: libFuzzer|SUMMARY' "$logs/$target.log" | sed 's/^/    /'
        find "artifacts/$target" -type f -newer "$logs" | sed 's/^/    artifact: /'
    fi
done
exit "$failed"
