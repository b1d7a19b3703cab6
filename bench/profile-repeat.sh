#!/bin/sh
# How well profiles repeat, side by side in one run, for each way of taking a layer's
# repeats: SETTINGS is a list of spread:span pairs (edgent profile --spread N --span S),
# default "1:0 5:10 25:10": back to back (as profiles were taken before --spread), five
# passes paced over at least 10 s per worker (the default before), and the default (25
# passes, one model repeat each, paced the same).
# PAIRS pairs of profiles are taken for each setting, the settings alternating, then every
# layer's median in the first profile of a pair is compared with the second's. A shared
# host's cores can each run at half speed for seconds at a time (edgent-bench-drift shows
# it); back-to-back repeats fall wholly into such a stretch or wholly outside it.
# Figures per setting and node: the share of the model's layers and of the fixed synthetic
# sweep's configurations whose medians agree within +-10%, and their mean absolute difference;
# then the same for their 10th percentiles (the profile's p10_ms), which a half-speed stretch
# reaches only when it covers nine in ten of a layer's repeats.
# Usage: bench/profile-repeat.sh [PAIRS] [MODEL] [SETTINGS]
set -eu
pairs=${1:-3}
model=${2:-}
settings=${3:-1:0 5:10 25:10}
edgent=${EDGENT:-$(dirname "$0")/../build/app/edgent}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
i=1
while [ "$i" -le "$pairs" ]; do
    for half in a b; do
        for s in $settings; do
            # shellcheck disable=SC2086
            "$edgent" profile --db "$dir/s$s-$i$half.sqlite" ${model:+--model "$model"} --spread "${s%%:*}" \
                --span "${s#*:}" --adaptive-rounds 0 --json > /dev/null
        done
    done
    i=$((i + 1))
done
python3 - "$dir" "$pairs" $settings <<'PY'
import sqlite3, sys
d, pairs, settings = sys.argv[1], int(sys.argv[2]), sys.argv[3:]

def rows(path):
    db = sqlite3.connect(path)
    out = {}
    for node, source, e, i, med, p10, cfg in db.execute(
            "select p.node, l.source, l.exit, l.layer_index, l.median_ms, l.p10_ms, l.config_json from profile_layers l "
            "join profiles p on p.id = l.profile_id order by l.rowid"):
        key = (node, source)
        out.setdefault(key, []).append(((e, i) if source == "model" else cfg, med, p10))
    return out

print(f"spread:span node   rows        median: within+-10%  mean|diff|   p10: within+-10%  mean|diff|"
      f"  (over {pairs} pairs of profiles)")
for s in settings:
    for node in ("device", "edge"):
        for source in ("model", "synthetic"):
            n, within, diff = [0, 0], [0, 0], [0.0, 0.0]  # median, then 10th percentile
            for p in range(1, pairs + 1):
                a = rows(f"{d}/s{s}-{p}a.sqlite").get((node, source), [])
                b = rows(f"{d}/s{s}-{p}b.sqlite").get((node, source), [])
                for (ka, *va), (kb, *vb) in zip(a, b):
                    for j in (0, 1):
                        if ka != kb or va[j] is None or vb[j] is None or vb[j] <= 0:
                            continue
                        rel = abs(va[j] - vb[j]) / vb[j]
                        n[j] += 1
                        within[j] += rel <= 0.1
                        diff[j] += rel
            if n[0] and n[1]:
                print(f"{s:>11} {node:6} {source:10} {100 * within[0] / n[0]:19.1f}% {100 * diff[0] / n[0]:10.1f}%"
                      f" {100 * within[1] / n[1]:16.1f}% {100 * diff[1] / n[1]:10.1f}%  ({n[0]} rows)")
PY
