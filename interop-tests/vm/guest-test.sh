#!/usr/bin/env bash
# The kernel-IPIP test, run INSIDE the VM (chroot of the host's root over 9p, read-only; /tmp
# and /run are the guest's tmpfs). ipip.ko is loaded, so every new namespace starts with the
# fallback tunl0.
#
#   A (198.18.0.1/24) --veth-- B (198.18.0.2/24)
#   pod 198.19.1.1/32 on A's lo, 198.19.2.1/32 on B's lo
#   tern-ipip --mode kernel in each (tunnel addresses 198.19.1.254, 198.19.2.254)
#   routes 198.19.2.0/24 via 198.18.0.2 dev tunl0 onlink (A) and back (B)
#
# Checks: tern-ipip says READY mode=Kernel (no fallback), `ip -d link show tunl0` is ipip with
# pmtudisc and mtu 1480, 3 pings pod→pod all answered, tern-ipip exits 0 on SIGTERM. Prints
# the outer packets tcpdump saw on A's veth as `TERN-VM-PACKET <hex>` for the host-side byte
# comparison with ipip's rules. Last line: TERN-VM-PASS or TERN-VM-FAIL: reason.
set -euo pipefail

bin=${1:?usage: guest-test.sh TERN_IPIP_BINARY}
ip=/usr/sbin/ip
[ -x "$ip" ] || ip=/sbin/ip
work=/tmp/tern-vm
mkdir -p "$work"

fail() {
    echo "TERN-VM-FAIL: $*"
    for log in "$work"/*.log; do
        [ -e "$log" ] || continue
        echo "--- $log"
        tail -n 20 "$log"
    done
    exit 1
}

# wait_for DESCRIPTION FIFTHS PID COMMAND...: polls COMMAND every 0.2 s, at most FIFTHS
# times; fails at once when PID (a process that should keep running) has exited.
wait_for() {
    local what=$1 fifths=$2 pid=$3
    shift 3
    for _ in $(seq "$fifths"); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        if [ "$pid" != - ] && ! kill -0 "$pid" 2>/dev/null; then
            fail "waiting for $what: process $pid exited"
        fi
        sleep 0.2
    done
    fail "timed out waiting for $what"
}
# has FILE TEXT: FILE contains TEXT (no fork).
has() { [[ -e $1 && $(< "$1") == *"$2"* ]]; }
echo "TERN-VM: guest script started at $(cut -d' ' -f1 /proc/uptime)s"

echo "TERN-VM: modules: $(cut -d' ' -f1 /proc/modules | tr '\n' ' ')"
[ -x "$bin" ] || fail "tern-ipip binary $bin not found through 9p"

$ip netns add A
$ip netns add B
$ip -n A link add veth0 type veth peer name veth0 netns B
$ip -n A addr add 198.18.0.1/24 dev veth0
$ip -n B addr add 198.18.0.2/24 dev veth0
for ns in A B; do
    $ip -n $ns link set lo up
    $ip -n $ns link set veth0 up
done
$ip -n A addr add 198.19.1.1/32 dev lo
$ip -n B addr add 198.19.2.1/32 dev lo
echo "TERN-VM: tunl0 before tern-ipip: $($ip -n A -d -o link show tunl0 | tr -s ' ')"

start() {
    local ns=$1 local_address=$2 tunnel_address=$3 peer=$4
    RUST_LOG=info $ip netns exec "$ns" "$bin" --mode kernel --local "$local_address" \
        --tunnel-address "$tunnel_address" --peer "$peer" \
        > "$work/tern-ipip-$ns.out" 2> "$work/tern-ipip-$ns.log" &
    echo $! > "$work/tern-ipip-$ns.pid"
}
start A 198.18.0.1 198.19.1.254 198.19.2.0/24=198.18.0.2
start B 198.18.0.2 198.19.2.254 198.19.1.0/24=198.18.0.1
for ns in A B; do
    wait_for "tern-ipip READY in $ns" 150 "$(cat "$work/tern-ipip-$ns.pid")" \
        has "$work/tern-ipip-$ns.out" READY
    ready=$(grep READY "$work/tern-ipip-$ns.out")
    echo "TERN-VM: $ns: $ready"
    [ "$ready" = "READY mode=Kernel device=tunl0" ] || fail "$ns: tern-ipip: $ready"
done

for ns in A B; do
    link=$($ip -n $ns -d -o link show tunl0 | tr -s ' ')
    echo "TERN-VM: $ns: $link"
    case " $link " in *" ipip "*) ;; *) fail "$ns: tunl0 is not ipip" ;; esac
    case " $link " in *" pmtudisc "*) ;; *) fail "$ns: tunl0 lacks pmtudisc" ;; esac
    case " $link " in *" mtu 1480 "*) ;; *) fail "$ns: tunl0 mtu is not 1480" ;; esac
    case "$link" in *"<"*UP*">"*) ;; *) fail "$ns: tunl0 is not up" ;; esac
    echo "TERN-VM: $ns: $($ip -n $ns -o -4 addr show dev tunl0 | tr -s ' ')"
done

$ip -n A route add 198.19.2.0/24 via 198.18.0.2 dev tunl0 onlink
$ip -n B route add 198.19.1.0/24 via 198.18.0.1 dev tunl0 onlink

# Connectivity: 3 pings pod to pod, every one answered.
$ip netns exec A ping -c 3 -i 0.2 -W 3 -I 198.19.1.1 198.19.2.1 > "$work/ping.log" 2>&1 \
    || fail "ping 198.19.1.1 -> 198.19.2.1"
sed 's/^/TERN-VM: ping: /' "$work/ping.log"
grep -q ' 3 received' "$work/ping.log" || fail "not all 3 pings answered"

# The wire: capture one echo request (TTL 17, inner ECN CE) and its reply on A's veth.
if [ -x /usr/bin/tcpdump ] || [ -x /usr/sbin/tcpdump ]; then
    tcpdump=$(command -v tcpdump)
    $ip netns exec A "$tcpdump" -Z root -n -x -l -c 2 -i veth0 'ip proto 4' \
        > "$work/capture.txt" 2> "$work/tcpdump.log" &
    capture=$!
    wait_for "tcpdump listening" 150 "$capture" has "$work/tcpdump.log" 'listening on'
    $ip netns exec A ping -c 1 -W 3 -t 17 -Q 0x03 -I 198.19.1.1 198.19.2.1 \
        > "$work/ping-ttl.log" 2>&1 || fail "ping -t 17 -Q 3"
    wait_for "tcpdump to capture 2 packets" 50 - eval "! kill -0 $capture"
    wait "$capture" || fail "tcpdump failed"
    # tcpdump -x: "<header line>" then "\t0x0000:  4500 0054 ..." lines per packet.
    awk '/^[^\t ]/ { if (hex != "") print "TERN-VM-PACKET " hex; hex = ""; next }
         /0x[0-9a-f]+:/ { for (i = 2; i <= NF; i++) hex = hex $i }
         END { if (hex != "") print "TERN-VM-PACKET " hex }' "$work/capture.txt"
    grep -v '^\s' "$work/capture.txt" | sed 's/^/TERN-VM: tcpdump: /'
else
    echo "TERN-VM: no tcpdump on the host; skipping the capture"
fi

echo "TERN-VM: A tunl0 counters: $($ip -n A -s -o link show tunl0 | tr -s ' ' | sed 's/.*RX/RX/')"
for ns in A B; do
    pid=$(cat "$work/tern-ipip-$ns.pid")
    kill -TERM "$pid"
    wait "$pid" || fail "$ns: tern-ipip exited with status $? on SIGTERM"
done
$ip -n A link show tunl0 > /dev/null || fail "tunl0 gone after tern-ipip stopped"
echo "TERN-VM: guest script done at $(cut -d' ' -f1 /proc/uptime)s"
echo "TERN-VM-PASS"
