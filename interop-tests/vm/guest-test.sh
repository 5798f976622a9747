#!/usr/bin/env bash
# The kernel-IPIP test, run INSIDE the VM (chroot of the host's root over 9p, read-only; /run
# is the guest's tmpfs and TMPDIR points into it). ipip.ko is loaded, so every new namespace starts with the
# fallback tunl0.
#
#   A (198.18.0.1/24) --veth-- B (198.18.0.2/24)
#   pod 198.19.1.1/32 on A's lo, 198.19.2.1/32 on B's lo
#   tern-ipip --mode kernel in each (tunnel addresses 198.19.1.254, 198.19.2.254)
#   routes 198.19.2.0/24 via 198.18.0.2 dev tunl0 onlink (A) and back (B)
#
# Checks: tern-ipip says READY mode=Kernel (no fallback), `ip -d link show tunl0` is ipip with
# pmtudisc, ttl inherit, mtu 1480 and the /32, 3 pings pod→pod all answered, tern-ipip exits 0
# on SIGTERM and a restart adopts its own device; in namespaces without the fallback device it
# creates tunl0 (C) or changes a nopmtudisc one (D, underlay MTU 1400 → 1380). Prints what
# tcpdump saw for the host-side byte comparison with ipip::wire: the outer packets on A's veth
# (`TERN-VM-PACKET <hex>`) and A's fragmentation-needed to a pod namespace P
# (`TERN-VM-ICMP <hex>`). Last line: TERN-VM-PASS or TERN-VM-FAIL: reason.
set -Eeuo pipefail

bin=${1:?usage: guest-test.sh TERN_IPIP_BINARY|- [TERND_BINARY]}
ternd=${2:-}
ip=/usr/sbin/ip
[ -x "$ip" ] || ip=/sbin/ip
work=/run/tern-vm
mkdir -p "$work"

fail() {
    trap - ERR
    echo "TERN-VM-FAIL: $*"
    for log in "$work"/*.log; do
        [ -e "$log" ] || continue
        echo "--- $log"
        tail -n 20 "$log"
    done
    exit 1
}
trap 'fail "line $LINENO: $BASH_COMMAND failed"' ERR

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

# ternd with kernel IPIP: nodes E and F (one file datastore, node-to-node mesh, pool
# 198.19.0.0/17 with ipipMode Always) each run `ternd --dataplane --ipip-mode kernel`, which
# sets tunl0 up, learns the other node's pod CIDR over BGP and installs it via tunl0 onlink
# (proto 201); a pod address on each node's lo pings the other's.
# two_nodes NS1 NODE1 POD1 NS2 NODE2 POD2: namespaces joined by a veth (NODEn/24 on veth0),
# a "pod" address PODn/32 on each lo.
two_nodes() {
    $ip netns add "$1"
    $ip netns add "$4"
    $ip -n "$1" link add veth0 type veth peer name veth0 netns "$4"
    $ip -n "$1" addr add "$2/24" dev veth0
    $ip -n "$4" addr add "$5/24" dev veth0
    for ns in "$1" "$4"; do
        $ip -n "$ns" link set lo up
        $ip -n "$ns" link set veth0 up
    done
    $ip -n "$1" addr add "$3/32" dev lo
    $ip -n "$4" addr add "$6/32" dev lo
}

ternd_test() {
    [ -x "$ternd" ] || fail "ternd binary $ternd not found through 9p"
    datastore=$work/datastore
    mkdir -p "$datastore"
    cat > "$datastore/cluster.yaml" <<'YAML'
apiVersion: tern.dev/v1alpha1
kind: BGPConfiguration
metadata: {name: default}
spec: {asNumber: 64512, nodeToNodeMeshEnabled: true}
---
apiVersion: tern.dev/v1alpha1
kind: IPPool
metadata: {name: pods}
spec: {cidr: 198.19.0.0/17, ipipMode: Always}
---
apiVersion: v1
kind: Node
metadata:
  name: node-e
  annotations: {tern.dev/bgp-ipv4-address: 198.18.5.1/24}
spec: {podCIDRs: [198.19.5.0/24]}
---
apiVersion: v1
kind: Node
metadata:
  name: node-f
  annotations: {tern.dev/bgp-ipv4-address: 198.18.5.2/24}
spec: {podCIDRs: [198.19.6.0/24]}
YAML
    two_nodes E 198.18.5.1 198.19.5.2 F 198.18.5.2 198.19.6.2
    for ns in E F; do
        node=node-$(tr 'EF' 'ef' <<< "$ns")
        RUST_LOG=info $ip netns exec "$ns" "$ternd" --node-name "$node" --datastore "$datastore" \
            --api-socket "$work/ternd-$ns.sock" --dataplane --ipip-mode kernel \
            > "$work/ternd-$ns.out" 2> "$work/ternd-$ns.log" &
        echo $! > "$work/ternd-$ns.pid"
    done
    wait_for "ternd E: route via tunl0" 300 "$(cat "$work/ternd-E.pid")" \
        eval "$ip -n E route show 198.19.6.0/24 | grep -q 'dev tunl0'"
    wait_for "ternd F: route via tunl0" 300 "$(cat "$work/ternd-F.pid")" \
        eval "$ip -n F route show 198.19.5.0/24 | grep -q 'dev tunl0'"
    for ns in E F; do
        grep -q 'IPIP device ready mode=Kernel' "$work/ternd-$ns.log" \
            || fail "ternd $ns did not open kernel IPIP"
        echo "TERN-VM: ternd $ns: $(grep -o 'IPIP device ready mode=Kernel.*' "$work/ternd-$ns.log" | head -1)"
        other=$([ "$ns" = E ] && echo 198.19.6.0/24 || echo 198.19.5.0/24)
        echo "TERN-VM: ternd $ns: route $($ip -n $ns -4 route show "$other" proto 201 | tr -s ' ')"
        echo "TERN-VM: ternd $ns: $($ip -n $ns -d -o link show tunl0 | tr -s ' ' | grep -o 'mtu [0-9]*')"
    done
    $ip netns exec E ping -c 3 -i 0.2 -W 3 -I 198.19.5.2 198.19.6.2 > "$work/ping-ternd.log" 2>&1 \
        || fail "ping across ternd's kernel IPIP 198.19.5.2 -> 198.19.6.2"
    sed -n 's/^\(.*packets transmitted.*\)/TERN-VM: ternd ping: \1/p' "$work/ping-ternd.log"
    for ns in E F; do
        kill -TERM "$(cat "$work/ternd-$ns.pid")"
        wait "$(cat "$work/ternd-$ns.pid")" || fail "ternd $ns exited non-zero on SIGTERM"
    done
    $ip -n E route show 198.19.6.0/24 | grep -q 'dev tunl0' || fail "E: route gone after ternd stopped"
    echo "TERN-VM: ternd: routes stay after SIGTERM"
}

# `-` instead of the tern-ipip binary: only the ternd part.
if [ "$bin" = - ]; then
    [ -n "$ternd" ] || fail "nothing to test: no tern-ipip and no ternd binary"
    ternd_test
    echo "TERN-VM: guest script done at $(cut -d' ' -f1 /proc/uptime)s"
    echo "TERN-VM-PASS"
    exit 0
fi

echo "TERN-VM: modules: $(cut -d' ' -f1 /proc/modules | tr '\n' ' ')"
[ -x "$bin" ] || fail "tern-ipip binary $bin not found through 9p"

two_nodes A 198.18.0.1 198.19.1.1 B 198.18.0.2 198.19.2.1
echo "TERN-VM: tunl0 before tern-ipip: $($ip -n A -d -o link show tunl0 | tr -s ' ')"

# start NS ARGS...: tern-ipip --mode kernel ARGS in NS, in the background; waits for READY
# and checks that it runs in kernel mode.
start() {
    local ns=$1
    shift
    RUST_LOG=info $ip netns exec "$ns" "$bin" --mode kernel "$@" \
        > "$work/tern-ipip-$ns.out" 2> "$work/tern-ipip-$ns.log" &
    echo $! > "$work/tern-ipip-$ns.pid"
    wait_for "tern-ipip READY in $ns" 150 "$!" has "$work/tern-ipip-$ns.out" READY
    local ready
    ready=$(grep READY "$work/tern-ipip-$ns.out")
    echo "TERN-VM: $ns: $ready"
    [ "$ready" = "READY mode=Kernel device=tunl0" ] || fail "$ns: tern-ipip: $ready"
}

# stop NS: SIGTERM to tern-ipip in NS, which must exit 0 and leave tunl0 in place.
stop() {
    local ns=$1 pid status=0
    pid=$(cat "$work/tern-ipip-$ns.pid")
    kill -TERM "$pid"
    wait "$pid" || status=$?
    [ "$status" -eq 0 ] || fail "$ns: tern-ipip exited with status $status on SIGTERM"
    $ip -n "$ns" link show tunl0 > /dev/null || fail "$ns: tunl0 gone after tern-ipip stopped"
}

# check_tunl0 NS MTU TUNNEL_ADDRESS: ipip, pmtudisc, ttl inherit, MTU, up, /32 address.
check_tunl0() {
    local ns=$1 mtu=$2 address=$3 link addresses
    link=$($ip -n "$ns" -d -o link show tunl0 | tr -s ' ')
    echo "TERN-VM: $ns: $link"
    # "ipip any remote": the fallback device (protocol 0, also takes MPLS-in-IP); "ipip ipip
    # remote": one made with `ip link add … type ipip` (protocol 4).
    case " $link " in *" ipip "*" remote any local any ttl inherit "*) ;;
        *) fail "$ns: tunl0 is not ipip remote any local any ttl inherit" ;; esac
    case " $link " in *" pmtudisc "*) ;; *) fail "$ns: tunl0 lacks pmtudisc" ;; esac
    case " $link " in *" mtu $mtu "*) ;; *) fail "$ns: tunl0 mtu is not $mtu" ;; esac
    case "$link" in *"<"*UP*">"*) ;; *) fail "$ns: tunl0 is not up" ;; esac
    addresses=$($ip -n "$ns" -o -4 addr show dev tunl0 | tr -s ' ')
    echo "TERN-VM: $ns: $addresses"
    case "$addresses" in *" inet $address/32 "*) ;; *) fail "$ns: tunl0 lacks $address/32" ;; esac
}

# A and B adopt the fallback tunl0 that loading ipip.ko made in every namespace.
start A --local 198.18.0.1 --tunnel-address 198.19.1.254 --peer 198.19.2.0/24=198.18.0.2
start B --local 198.18.0.2 --tunnel-address 198.19.2.254 --peer 198.19.1.0/24=198.18.0.1
check_tunl0 A 1480 198.19.1.254
check_tunl0 B 1480 198.19.2.254

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

# Fragmentation needed, from the kernel tunnel: a pod namespace P behind A (Calico style:
# 198.19.1.2/32, default route on its veth, proxy ARP on A's side) sends a 1480-byte DF
# packet; with A's underlay lowered to 1400, tunl0 (MTU 1480) cannot carry it and A answers
# ICMP type 3 code 4 with MTU 1380 (icmp_ndo_send). Printed as TERN-VM-ICMP <hex>.
if [ -n "${tcpdump:-}" ]; then
    $ip netns add P
    $ip -n A link add calip type veth peer name eth0 netns P
    $ip -n P link set lo up
    $ip -n P link set eth0 up
    $ip -n P addr add 198.19.1.2/32 dev eth0
    $ip -n P route add default dev eth0
    $ip -n A link set calip up
    $ip -n A route add 198.19.1.2/32 dev calip
    $ip netns exec A bash -c 'echo 1 > /proc/sys/net/ipv4/ip_forward
        echo 1 > /proc/sys/net/ipv4/conf/calip/proxy_arp'
    $ip -n A link set veth0 mtu 1400
    $ip netns exec P "$tcpdump" -Z root -n -x -l -c 1 -i eth0 'icmp[icmptype] == 3' \
        > "$work/capture-icmp.txt" 2> "$work/tcpdump-icmp.log" &
    capture=$!
    wait_for "tcpdump listening in P" 150 "$capture" has "$work/tcpdump-icmp.log" 'listening on'
    # No reply is expected: ping reports the error and exits 1.
    $ip netns exec P ping -c 1 -W 3 -M "do" -s 1452 198.19.2.1 > "$work/ping-frag.log" 2>&1 || true
    wait_for "tcpdump to capture the ICMP error" 50 - eval "! kill -0 $capture"
    wait "$capture" || fail "tcpdump in P failed"
    awk '/^[^\t ]/ { if (hex != "") print "TERN-VM-ICMP " hex; hex = ""; next }
         /0x[0-9a-f]+:/ { for (i = 2; i <= NF; i++) hex = hex $i }
         END { if (hex != "") print "TERN-VM-ICMP " hex }' "$work/capture-icmp.txt"
    grep -v '^\s' "$work/capture-icmp.txt" | sed 's/^/TERN-VM: tcpdump: /'
    sed -n 's/^\(From .*\)/TERN-VM: ping: \1/p' "$work/ping-frag.log"
    $ip -n A link set veth0 mtu 1500
fi

echo "TERN-VM: A tunl0 counters: $($ip -n A -s -o link show tunl0 | tr -s ' ' | sed 's/.*RX/RX/')"
stop A
stop B

# Restart in A: adopts its own configured device (address already there), routes still work.
start A --local 198.18.0.1 --tunnel-address 198.19.1.254 --peer 198.19.2.0/24=198.18.0.2
check_tunl0 A 1480 198.19.1.254
$ip netns exec A ping -c 1 -W 3 -I 198.19.1.1 198.19.2.1 > "$work/ping-restart.log" 2>&1 \
    || fail "ping after restarting tern-ipip in A"
echo "TERN-VM: A: ping after restart: $(grep -o '1 received' "$work/ping-restart.log")"
stop A

# Namespaces without the fallback device: C has no tunl0 (tern-ipip creates it over
# rtnetlink); D has one made with nopmtudisc (tern-ipip changes it over rtnetlink).
echo 1 > /proc/sys/net/core/fb_tunnels_only_for_init_net
$ip netns add C
$ip netns add D
if $ip -n C link show tunl0 > /dev/null 2>&1; then fail "C: unexpected fallback tunl0"; fi
$ip -n D link add tunl0 type ipip nopmtudisc
echo "TERN-VM: D: before: $($ip -n D -d -o link show tunl0 | tr -s ' ' | grep -o 'ipip .* nopmtudisc')"
start C --local 198.18.0.3 --underlay-mtu 1500 --tunnel-address 198.19.3.254
check_tunl0 C 1480 198.19.3.254
stop C
start D --local 198.18.0.4 --underlay-mtu 1400 --tunnel-address 198.19.4.254
check_tunl0 D 1380 198.19.4.254
stop D
if [ -n "$ternd" ]; then
    ternd_test
fi
echo "TERN-VM: guest script done at $(cut -d' ' -f1 /proc/uptime)s"
echo "TERN-VM-PASS"
