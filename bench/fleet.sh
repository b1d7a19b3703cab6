#!/bin/sh
# Joint against independent planning for 1, 2, 4 and 8 local devices sharing one edge
# (edgent run --devices N), side by side in one run. Every figure depends on the emulated slow
# device (--device-slowdown 4, sleeping out its slowdown so that N devices can share this
# host's cores); profile the device the same way first:
#   edgent profile --db DB --no-synthetic --repeats 9 --device-slowdown 4 --slowdown-wait sleep
# Usage: bench/fleet.sh DB [RATE_HZ] [COUNT] [DEADLINE] [BANDWIDTH]
set -eu
db=${1:?usage: bench/fleet.sh DB [RATE_HZ] [COUNT] [DEADLINE] [BANDWIDTH]}
rate=${2:-20}
count=${3:-200}
deadline=${4:-20ms}
bandwidth=${5:-4Mbps}
edgent=${EDGENT:-$(dirname "$0")/../build/app/edgent}
echo "devices,planning,throughput_hz,p95_ms,worst_device_p95_ms,hit_rate,worst_device_hit_rate,accuracy,busy,queue_ms_mean,edge_utilisation,offloading"
for n in 1 2 4 8; do
    for planning in independent joint; do
        "$edgent" run --db "$db" --policy edgent --deadline "$deadline" --bandwidth "$bandwidth" --devices "$n" \
            --count "$count" --rate "$rate" --device-slowdown 4 --planning "$planning" --json |
            python3 -c '
import json, sys
r = json.load(sys.stdin)
offload = sum(1 for d in r["per_device"] if d.get("offloads"))
print("%d,%s,%.1f,%.2f,%.2f,%.3f,%.3f,%.4f,%d,%.2f,%.2f,%d" % (r["devices"], r["planning"], r["throughput_hz"],
      r["latency_ms_p95"], r["worst_device_p95_ms"], r["deadline_hit_rate"], r["worst_device_hit_rate"], r["accuracy"],
      r["busy"], r["queue_ms_mean"], r["edge_utilisation"], offload))'
    done
done
