#!/bin/sh
# Joint against independent planning for 1, 2, 4 and 8 local devices sharing one edge, side by
# side in one run: edgent sweep --devices (core/control/FleetPoint.h), one stored fleet and one
# CSV row per point. Every figure depends on the emulated slow device (--device-slowdown 4,
# sleeping out its slowdown so that N devices can share this host's cores); profile the device
# the same way first:
#   edgent profile --db DB --no-synthetic --repeats 9 --device-slowdown 4 --slowdown-wait sleep
# Usage: bench/fleet.sh DB [RATE_HZ] [COUNT] [DEADLINE] [BANDWIDTH] [DEVICES] [EDGE_SERVERS]
# EDGE_SERVERS (e.g. 1,2) measures how the edge's throughput scales with its serving threads;
# PLANNINGS (environment; default independent,joint,paced) chooses the plannings compared;
# EDGES (environment; default 1, e.g. 1,2) spawns that many edge workers, device i on edge i mod E.
set -eu
db=${1:?usage: bench/fleet.sh DB [RATE_HZ] [COUNT] [DEADLINE] [BANDWIDTH] [DEVICES] [EDGE_SERVERS]}
rate=${2:-20}
count=${3:-200}
deadline=${4:-20ms}
bandwidth=${5:-4Mbps}
devices=${6:-1,2,4,8}
servers=${7:-1}
edgent=${EDGENT:-$(dirname "$0")/../build/app/edgent}
out=$(mktemp --suffix=.csv)
trap 'rm -f "$out"' EXIT
"$edgent" sweep --db "$db" --policies edgent --bandwidths "$bandwidth" --deadlines "$deadline" --devices "$devices" \
    --plannings "${PLANNINGS:-independent,joint,paced}" --edges "${EDGES:-1}" --edge-servers "$servers" --count "$count" --rate "$rate" --device-slowdown 4 --out "$out" >&2
cat "$out"
