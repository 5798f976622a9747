#!/usr/bin/env bash
# tern's whole test suite: the README's test command. Run as root on Debian.
#
# 1. installs the Debian packages the tests need (real routers, nftables, iproute2, ...),
# 2. checks formatting and clippy,
# 3. runs every unit, property and integration test (integration tests build network
#    namespaces and run BIRD, FRR, GoBGP and ExaBGP as real peers; interop-tests'
#    kernel_ipip_vm boots Debian's kernel in a qemu TCG VM to run kernel IPIP for real,
#    see interop-tests/vm/),
# 4. runs every cargo-fuzz target for a bounded time (TERN_FUZZ_SECONDS, default 15).
#
# Benchmarks are not run here: see README.
set -euo pipefail

cd "$(dirname "$0")/.."
root=$(pwd)
fuzz_seconds=${TERN_FUZZ_SECONDS:-15}

step() { printf '\n==> %s\n' "$*"; }

if [ "$(id -u)" -ne 0 ]; then
    echo "scripts/test.sh: must run as root (integration tests create network namespaces)" >&2
    exit 2
fi

step "system packages"
packages=(bird2 frr gobgpd exabgp nftables iproute2 iputils-ping tcpdump tshark
          containernetworking-plugins procps psmisc build-essential pkg-config
          qemu-system-x86 busybox-static cpio kmod xz-utils)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
    echo "all present"
fi

step "rust toolchain"
if ! command -v cargo >/dev/null; then
    echo "scripts/test.sh: cargo not found; install Rust stable (rustup) first" >&2
    exit 2
fi
rustup component add rustfmt clippy >/dev/null 2>&1 || true
cargo --version

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy --all-targets -D warnings"
cargo clippy --workspace --all-targets --quiet -- -D warnings

step "cargo test (unit, property, integration)"
mkdir -p target
# pipefail makes a failing cargo test fail this pipeline; the script still fuzzes and prints
# the counts, then exits non-zero.
test_status=0
cargo test --workspace --no-fail-fast 2>&1 | tee target/test-output.log || test_status=$?
passed=$(awk '/^test result:/ {s += $4} END {print s + 0}' target/test-output.log)
failed=$(awk '/^test result:/ {s += $6} END {print s + 0}' target/test-output.log)

step "fuzzing: every target for ${fuzz_seconds}s"
if ! command -v cargo-fuzz >/dev/null; then
    echo "installing cargo-fuzz"
    cargo install --quiet --locked cargo-fuzz
fi
fuzz_status=0
bash bgp/fuzz/run-all.sh "$fuzz_seconds" || fuzz_status=$?

step "done"
echo "tests: ${passed} passed, ${failed} failed"
if [ "$test_status" -ne 0 ] || [ "$fuzz_status" -ne 0 ]; then
    echo "FAILED: cargo test exit ${test_status}, fuzzing exit ${fuzz_status}" >&2
    grep -E '^test .* FAILED$|^    [a-z_:]+$' target/test-output.log | sort -u | head -40 >&2 || true
    exit 1
fi
echo "elapsed: ${SECONDS}s"
