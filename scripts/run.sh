#!/usr/bin/env bash
# `make run`: starts Edgent Workbench from the build folder given as $1.
# With a display, it opens the workbench window with local workers and the default model.
# Without one, it runs the headless demo: the default model's per-exit accuracy, a short
# co-inference run on two local worker processes at three bandwidths, a dynamic-mode run
# under the step trace, all stored in a run database and exported as plots.
set -euo pipefail
build="${1:-build}"
cd "$(dirname "$0")/.."
edgent="$build/app/edgent"
workbench="$build/app/edgent-workbench"

if [[ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" && -x "$workbench" ]]; then
  echo "Starting the Edgent Workbench window (local workers, default model)."
  exec "$workbench"
fi

out="$build/demo"
mkdir -p "$out"
db="$out/runs.sqlite"
echo "No display: running the headless demo (the window needs X11 or Wayland)." >&2
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
echo "== dynamic mode under resources/traces/step.csv (a device 4x slower than this machine)"
"$edgent" profile --db "$db" --device-slowdown 4 --no-synthetic --span 0 --json >/dev/null
"$edgent" run --db "$db" --experiment make-run-demo --trace resources/traces/step.csv --policy edgent \
  --dynamic --deadline 20ms --predictor lookup --device-slowdown 4
dyn=$("$edgent" runs list --db "$db" --json | sed -E 's/.*"id":([0-9]+).*/\1/')
"$edgent" export --db "$db" --run "$dyn" --out "$out/run-$dyn.png"
echo
echo "database: $db   (edgent runs list --db $db)"
echo "plots:    $out/run-$last.png, $out/run-$last.pdf, $out/run-$dyn.png; samples: $out/run-$last.csv"
