#!/usr/bin/env bash
# `make run`: starts Edgent Workbench from the build folder given as $1.
# The workbench window is not built yet, so this runs the headless path: the default
# model's per-exit accuracy, then a short co-inference demo on two local worker processes
# at three bandwidths, stored in a run database and exported as plots.
set -euo pipefail
build="${1:-build}"
cd "$(dirname "$0")/.."
edgent="$build/app/edgent"
out="$build/demo"
mkdir -p "$out"
db="$out/runs.sqlite"

echo "edgent: the workbench window is not part of this build yet; running the headless demo." >&2
echo "== per-exit accuracy of the default model (datasets/default-model/fmnist-alexnet5.json)"
"$edgent" eval
echo
echo "== co-inference on local device and edge workers: exit 4, partition after pool1 (p = 4)"
for bw in 500kbps 5Mbps 50Mbps; do
  "$edgent" run --db "$db" --experiment make-run-demo --exit 4 --partition 4 --bandwidth "$bw" \
    --deadline 200ms --count 50
done
last=$("$edgent" runs list --db "$db" --json | sed -E 's/.*"id":([0-9]+).*/\1/')
"$edgent" export --db "$db" --run "$last" --out "$out/run-$last.png"
"$edgent" export --db "$db" --run "$last" --out "$out/run-$last.pdf"
"$edgent" export --db "$db" --run "$last" --out "$out/run-$last.csv"
echo
echo "database: $db   (edgent runs list --db $db)"
echo "plots:    $out/run-$last.png, $out/run-$last.pdf; samples: $out/run-$last.csv"
