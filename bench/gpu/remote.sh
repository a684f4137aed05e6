#!/usr/bin/env bash
# Kiln's copy of ../shared/gpu/remote.sh (plus the staged test data).
# Runs on the device machine, from the repository root: puts Node.js on PATH, unpacks the
# carried node_modules, finds libnvrtc and libcuda, prints what it found, then runs "$@".
set -uo pipefail
cd "$(dirname "$0")/.."
if ! command -v node >/dev/null 2>&1; then
  mkdir -p /tmp/nodebin && xz -dc .gpu/node.xz > /tmp/nodebin/node && chmod +x /tmp/nodebin/node
  export PATH=/tmp/nodebin:$PATH
fi
[[ -e node_modules ]] || tar -xJf .gpu/node_modules.tar.xz
nvrtc=$(ls /usr/local/cuda/lib64/libnvrtc.so* /usr/local/cuda-*/lib64/libnvrtc.so* 2>/dev/null | head -n1)
if [[ -z $nvrtc ]]; then
  nvrtc=$(python3 - <<'PY' 2>/dev/null
import glob, os, site
for d in site.getsitepackages():
    for f in sorted(glob.glob(os.path.join(d, 'nvidia', '**', 'libnvrtc.so*'), recursive=True)):
        print(f); raise SystemExit
PY
)
fi
[[ -n $nvrtc ]] && export KILN_NVRTC_PATH=$nvrtc LD_LIBRARY_PATH=$(dirname "$nvrtc"):${LD_LIBRARY_PATH:-}
echo "node $(node -v) | nvrtc ${nvrtc:-not found} | $(nvidia-smi -L 2>/dev/null | head -n1)"
export KILN_DEVICE=cuda KILN_CACHE_DIR=${KILN_CACHE_DIR:-/tmp/kiln-cache}
[[ -d .gpu/data ]] && export KILN_SHARED_DATA=$PWD/.gpu/data
[[ -d .gpu/fashion ]] && export KILN_FASHION_MNIST=$PWD/.gpu/fashion
[[ $# -gt 0 ]] || set -- node --version
"$@"
