#!/bin/sh
# On-device adaptation, side by side in one run: fp32, QAT and RCT fine-tuning of the device's
# slice on the shifted stream (edgent adapt), then co-inference runs on the shifted test
# stream with the shipped model and with each adapted model (edgent run --shift), the device
# running the first layers of exit 1 and the edge the rest. Figures: accuracy before and after
# on held-out shifted and clean images, parameter bytes held (measured), the GEMM energy
# estimate, RCT's final widths, and each run's accuracy on the shifted test images.
# Usage: bench/adapt.sh DB [STEPS] [RUN_COUNT] [EXIT] [PARTITION]
set -eu
db=${1:?usage: bench/adapt.sh DB [STEPS] [RUN_COUNT] [EXIT] [PARTITION]}
steps=${2:-300}
count=${3:-1000}
exit_=${4:-1}
partition=${5:-4}
edgent=${EDGENT:-$(dirname "$0")/../build/app/edgent}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
for mode in fp32 qat rct; do
    "$edgent" adapt --db "$db" --local --modes "$mode" --steps "$steps" --save "$dir/$mode.json" --json > "$dir/$mode.adapt.json"
done
python3 - "$dir" <<'PY'
import json, sys
d = sys.argv[1]
rows = {m: json.load(open(f"{d}/{m}.adapt.json"))["adaptations"][0] for m in ("fp32", "qat", "rct")}
gain = {m: r["shifted_after"] - r["shifted_before"] for m, r in rows.items()}
print("mode  shifted_before shifted_after clean_before clean_after bytes_held bytes_peak gemm_mj final_bits")
for m, r in rows.items():
    bits = ",".join(f'{b["layer"]}:{b["bits"]}' for b in r["final_bits"])
    print(f'{m:5} {r["shifted_before"]:.4f} {r["shifted_after"]:.4f} {r["clean_before"]:.4f} {r["clean_after"]:.4f} '
          f'{r["param_bytes_held"]} {r["param_bytes_peak"]} {r["gemm_energy_mj"]:.2f} {bits or "-"}')
print(f'rct recovers {gain["rct"] / gain["fp32"]:.3f} of fp32\'s gain; qat {gain["qat"] / gain["fp32"]:.3f}')
print(f'rct holds {1 - rows["rct"]["param_bytes_held"] / rows["qat"]["param_bytes_held"]:.3f} fewer parameter bytes than qat')
print(f'rct GEMM energy: {rows["rct"]["gemm_energy_mj"] / rows["fp32"]["gemm_energy_mj"]:.3f} of fp32, '
      f'{rows["rct"]["gemm_energy_mj"] / rows["qat"]["gemm_energy_mj"]:.3f} of qat')
PY
echo "co-inference on the shifted test stream: exit $exit_, the device running $partition layers"
for model in shipped fp32 qat rct; do
    m=$([ "$model" = shipped ] && echo "" || echo "--model $dir/$model.json")
    # shellcheck disable=SC2086
    acc=$("$edgent" run --db "$db" $m --local --exit "$exit_" --partition "$partition" --count "$count" --shift default --json |
          python3 -c 'import json,sys; r=json.load(sys.stdin); print("%.4f over %d inputs, run %d" % (r["accuracy"], r["inferences"], r["run_id"]))')
    echo "$model: $acc"
done
