#!/usr/bin/env bash
# Boots the kernel-IPIP test VM and runs guest-test.sh in it (see prepare.sh, init).
#
# Usage: run.sh TERN_IPIP_BINARY [CONSOLE_LOG]
#   TERN_IPIP_BINARY  absolute path on the host (the guest sees the host's root over 9p), or
#                     `-` to run only the ternd part (needs TERN_VM_TERND)
#   CONSOLE_LOG       where the serial console goes (default: target/vm-cache/console.log)
# Env: TERN_VM_TIMEOUT (seconds, default 240); TERN_VM_TERND (absolute path of a ternd binary:
# the guest also runs ternd with kernel IPIP in two namespaces).
#
# Exit status: 0 when the console shows TERN-VM-PASS, 1 on TERN-VM-FAIL, 2 on timeout or no
# verdict (the console tail is printed to stderr). Uses TCG: KVM does not work on the
# development machines (see TESTING.md).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
bin=${1:?usage: run.sh TERN_IPIP_BINARY [CONSOLE_LOG]}
cache=$repo/target/vm-cache
console=${2:-$cache/console.log}
timeout_seconds=${TERN_VM_TIMEOUT:-240}

case "$bin" in -|/*) ;; *) bin=$(pwd)/$bin ;; esac
[ "$bin" = - ] || [ -x "$bin" ] || { echo "run.sh: $bin is not an executable" >&2; exit 2; }

mkdir -p "$cache"
# One run at a time per cache (prepare.sh fills it).
exec 9> "$cache/.lock"
flock 9
# A stripped copy is much faster to load over 9p under TCG than a debug binary.
if [ "$bin" != - ] && command -v strip >/dev/null && strip -o "$cache/tern-ipip" "$bin" 2>/dev/null; then
    bin=$cache/tern-ipip
fi

ternd=${TERN_VM_TERND:-}
if [ -n "$ternd" ]; then
    [ -x "$ternd" ] || { echo "run.sh: TERN_VM_TERND=$ternd is not an executable" >&2; exit 2; }
    if command -v strip >/dev/null && strip -o "$cache/ternd" "$ternd" 2>/dev/null; then
        ternd=$cache/ternd
    fi
fi

env_lines=$(bash "$here/prepare.sh" "$cache")
kernel=$(sed -n 's/^KERNEL=//p' <<< "$env_lines")
initrd=$(sed -n 's/^INITRD=//p' <<< "$env_lines")
mkdir -p "$(dirname "$console")"

echo "vm: kernel $kernel" >&2
echo "vm: initrd $initrd" >&2
started=$(date +%s%N)
status=0
# The console goes to the log only: the caller prints what it needs.
timeout --foreground -k 5 "$timeout_seconds" qemu-system-x86_64 \
    -accel tcg -cpu max -m 512 -smp 1 -nographic -no-reboot -nic none \
    -kernel "$kernel" -initrd "$initrd" \
    -append "console=ttyS0 quiet panic=-1 tern_script=$here/guest-test.sh tern_bin=$bin${ternd:+ tern_ternd=$ternd}" \
    -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
    < /dev/null > "$console" 2>&1 || status=$?
elapsed_ms=$((($(date +%s%N) - started) / 1000000))
elapsed=$((elapsed_ms / 1000)).$(printf %03d $((elapsed_ms % 1000)))
echo "vm: qemu exited with status $status after ${elapsed}s" >&2

if grep -q '^TERN-VM-PASS' "$console"; then
    exit 0
fi
if grep -q '^TERN-VM-FAIL' "$console"; then
    echo "vm: FAIL; console tail:" >&2
    tail -n 60 "$console" >&2
    exit 1
fi
if [ "$status" -eq 124 ]; then
    echo "vm: timed out after ${timeout_seconds}s; console tail:" >&2
else
    echo "vm: no verdict on the console; tail:" >&2
fi
tail -n 60 "$console" >&2
exit 2
