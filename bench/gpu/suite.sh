#!/usr/bin/env bash
# Runs on the device machine through remote.sh: the GPU tests, then the GPU bench programs,
# each with its own time limit; logs and bench JSON go to $OUT (the device tool brings them back).
#   bash .gpu/remote.sh bash .gpu/suite.sh [tests|benches|all] [bench names...]
set -uo pipefail
what=${1:-all}; shift || true
out=${OUT:-/tmp/kiln-gpu-out}; mkdir -p "$out/results"
mocha=node_modules/mocha/bin/mocha.js
if [[ $what == tests || $what == all ]]; then
  KILN_TEST_VERBOSE=1 timeout 300 node $mocha --no-config --timeout 600000 \
    dist/test/runtime/native/*.test.js dist/test/executor/gpu.test.js > "$out/gpu-tests.log" 2>&1
  echo "gpu tests: rc=$? $(grep -E '^\s+[0-9]+ (passing|failing|pending)' "$out/gpu-tests.log" | tr -s ' ' | tr '\n' ' ')"
fi
if [[ $what == benches || $what == all ]]; then
  names=("$@"); [[ ${#names[@]} -gt 0 ]] || names=(elementwise reductions gemm_conv end_to_end memory compile_time)
  for b in "${names[@]}"; do
    start=$(date +%s)
    timeout 150 node dist/bench/index.js "$b" --out "$out/results" > "$out/bench-$b.log" 2>&1
    echo "bench $b: rc=$? $(( $(date +%s) - start )) s"
  done
fi
