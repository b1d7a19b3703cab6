#!/usr/bin/env bash
# A fleet over real links: every device worker in its own network namespace, its uplink shaped
# by the kernel (tc tbf on its veth), all sharing one edge worker in this host's namespace. The
# fleet plans at the links' rate and shapes nothing itself (--measure-only), so what a device's
# frames meet on the way is what a real link does, not the workers' own shaper.
# Needs root and iproute2. Devices are emulated slow (x4, sleeping), as in bench/fleet.sh;
# profile the same way first:
#   edgent profile --db DB --no-synthetic --repeats 9 --device-slowdown 4 --slowdown-wait sleep
# Usage: bench/fleet-netns.sh DB [DEVICES] [RATE_HZ] [COUNT] [DEADLINE] [KBIT] [PLANNING]
# prints the fleet's JSON (edgent run --json) on stdout.
set -eu
db=${1:?usage: bench/fleet-netns.sh DB [DEVICES] [RATE_HZ] [COUNT] [DEADLINE] [KBIT] [PLANNING]}
n=${2:-4}
rate=${3:-20}
count=${4:-200}
deadline=${5:-20ms}
kbit=${6:-4000}
planning=${7:-joint}
build=${BUILD:-$(dirname "$0")/../build}
worker=$build/workers/edgent-worker
edgent=$build/app/edgent
[ "$(id -u)" = 0 ] || { echo "bench/fleet-netns.sh: needs root (network namespaces and tc)" >&2; exit 1; }
[ "$n" -ge 1 ] && [ "$n" -le 32 ] || { echo "bench/fleet-netns.sh: DEVICES must be 1 to 32" >&2; exit 1; }

tag=$$
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    for i in $(seq 1 "$n"); do
        ip link del "efr$i-$tag" 2>/dev/null || true
        ip netns del "edgent-fleet$i-$tag" 2>/dev/null || true
    done
}
trap cleanup EXIT

net=10.$((200 + tag % 50))  # private addresses, only inside this machine's own namespaces
devices=""
bandwidths=""
for i in $(seq 1 "$n"); do
    ns=edgent-fleet$i-$tag
    host=efr$i-$tag
    dev=efd$i-$tag
    ip netns add "$ns"
    ip link add "$host" type veth peer name "$dev"
    ip link set "$dev" netns "$ns"
    ip addr add "$net.$i.1/30" dev "$host"
    ip link set "$host" up
    ip netns exec "$ns" ip addr add "$net.$i.2/30" dev "$dev"
    ip netns exec "$ns" ip link set lo up
    ip netns exec "$ns" ip link set "$dev" up
    ip netns exec "$ns" ip route add default via "$net.$i.1"
    # The device's uplink: what it sends towards the edge.
    ip netns exec "$ns" tc qdisc add dev "$dev" root tbf rate "${kbit}kbit" burst 16kb latency 500ms
    ip netns exec "$ns" "$worker" --role device --bind "tcp://$net.$i.2:5555" --slowdown 4 --slowdown-wait sleep >/dev/null &
    pids+=($!)
    devices+="${devices:+,}tcp://$net.$i.2:5555"
    bandwidths+="${bandwidths:+,}${kbit}kbps"
done
# The edge listens on the first link's host side; every namespace reaches it through its default route.
"$worker" --role edge --bind "tcp://$net.1.1:5600" --servers 1 >/dev/null &
pids+=($!)
sleep 2
"$edgent" run --db "$db" --policy edgent --deadline "$deadline" --rate "$rate" --count "$count" --planning "$planning" \
    --edge "tcp://$net.1.1:5600" --device-list "$devices" --bandwidths "$bandwidths" --measure-only --json
