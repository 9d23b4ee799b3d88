#!/usr/bin/env bash
# The GPU path's first contact (139 s on one H200, 2026-11-26; README, Figures): a short seed run
# eagerly and with --compile, a Ctrl-C in the middle of an epoch and --resume, then `specc eval`; prints
# images/s and MFU of each run.
#
#   benchmarks/gpu_smoke.sh [DATA]           # DATA: as for `specc train --data`
#
# DATA defaults to $SPECC_DATA, else ../shared/data/cifar10-jpeg.tar.gz. For a dry run of the
# script itself on a CPU: SMOKE_DEVICE=cpu SMOKE_SPEC=specs/cifar_small.yaml SMOKE_LIMIT=2048.
set -euo pipefail
cd "$(dirname "$0")/.."

data=${1:-${SPECC_DATA:-../shared/data/cifar10-jpeg.tar.gz}}
device=${SMOKE_DEVICE:-cuda}
spec=${SMOKE_SPEC:-specs/alexnet.yaml}
limit=${SMOKE_LIMIT:-20480}
out=${SMOKE_OUT:-$(mktemp -d -t specc-gpu-smoke-XXXXXX)}
specc=(python3 -m specc)
[ -x .venv/bin/python ] && specc=(.venv/bin/python -m specc)
common=(--data "$data" --device "$device" --limit-train "$limit" --limit-test 2000)

summary() {  # images/s and MFU of a finished run, from its result.json
    python3 - "$1" "$2" <<'EOF'
import json, pathlib, sys
run = next(pathlib.Path(sys.argv[2]).iterdir())
result = json.loads((run / "result.json").read_text())
environment = json.loads((run / "environment.json").read_text())
training = result["training"]
mfu = training.get("mfu")
print(f"{sys.argv[1]:<22} {environment['device_name']}, {environment['precision']}: "
      f"{training['images_per_s']:,.0f} images/s, MFU "
      f"{'n/a' if mfu is None else f'{mfu:.1%}'}, test accuracy {result['test_accuracy']:.4f}")
EOF
}

echo "== specc GPU smoke test: $spec on $device, $limit training images; output in $out"
"${specc[@]}" train "$spec" "${common[@]}" --epochs 2 --out "$out/eager"
"${specc[@]}" train "$spec" "${common[@]}" --epochs 2 --compile --out "$out/compiled"

echo "== Ctrl-C in the middle of epoch 2 of 3, then --resume"
log="$out/interrupted.log"
"${specc[@]}" train "$spec" "${common[@]}" --epochs 3 --out "$out/interrupted" >"$log" 2>&1 &
pid=$!
until grep -q "^epoch 1:" "$log" 2>/dev/null; do
    kill -0 "$pid" 2>/dev/null || { cat "$log"; echo "the run ended before epoch 1"; exit 1; }
    sleep 0.2
done
sleep 0.5
kill -INT "$pid"
status=0
wait "$pid" || status=$?
[ "$status" -eq 130 ] || { cat "$log"; echo "expected exit 130 after Ctrl-C, got $status"; exit 1; }
run=$(echo "$out"/interrupted/*)
"${specc[@]}" train "$spec" --resume "$run"
"${specc[@]}" eval "$spec" --checkpoint "$run" --data "$data" --device "$device" --limit-test 2000

echo "== figures"
summary "eager" "$out/eager"
summary "--compile" "$out/compiled"
summary "interrupted + resumed" "$out/interrupted"
