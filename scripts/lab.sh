#!/usr/bin/env bash
# The tern lab: 3 nodes running ternd on the contract manifests (deploy/examples), a
# top-of-rack BIRD router and an outside client, each in a network namespace, with pods wired
# by the real ptp/host-local CNI plugins. Prints each node's peer table (ternctl node status),
# the router's routes (birdc show route) and a reachability matrix (pod<->pod across nodes,
# client -> pods). Stays up until Ctrl-C; with --once exits after printing (non-zero if a
# check failed). Removes everything it created on exit. Run as root on Debian.
#
#   scripts/lab.sh [--once]
#
# Lab-only manifests (added to the unchanged examples) live in interop-tests/lab/manifests.
set -euo pipefail

cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
    echo "scripts/lab.sh: must run as root (the lab creates network namespaces)" >&2
    exit 2
fi

echo "==> system packages"
packages=(bird2 containernetworking-plugins iproute2 iputils-ping nftables procps
          build-essential pkg-config)
# shellcheck source=scripts/packages.sh
. scripts/packages.sh
install_packages "${packages[@]}"

if ! command -v cargo >/dev/null; then
    echo "scripts/lab.sh: cargo not found; install Rust stable (rustup) first" >&2
    exit 2
fi

echo "==> build (release): ternd, ternctl, tern-lab"
cargo build --release --quiet -p tern-agent -p ternctl -p interop-tests --bin ternd --bin ternctl --bin tern-lab

target=${CARGO_TARGET_DIR:-target}
echo "==> lab"
# exec: Ctrl-C reaches tern-lab, which removes the namespaces, processes and temp dirs.
exec "$target/release/tern-lab" \
    --ternd "$target/release/ternd" \
    --ternctl "$target/release/ternctl" \
    --manifests deploy/examples \
    --manifests interop-tests/lab/manifests \
    "$@"
