#!/usr/bin/env bash
# Device check of the WebGPU backend on a Linux machine with an NVIDIA GPU (run as root, offline):
#   1. makes Vulkan reachable for Dawn: the loader from .gl/*.deb when libvulkan.so.1 is missing,
#      the NVIDIA ICD from /usr/local/nvidia when present;
#   2. runs the byte-equality checks on the real adapter (a software adapter fails them);
#   3. runs the GPU / wasm / reference benchmark on the same machine and prints the table;
#   4. runs the CPU streaming benchmark (npm run bench: I/O floor, reference, wasm at 1 and all
#      cores) at GPU_CHECK_CPU_SIZE per model (default 384MB; GPU_CHECK_CPU_SIZE=0 skips it).
#
#   scripts/gpu-check.sh                 # check + benchmark (GPU_CHECK_SIZE per model, default 384M)
#   scripts/gpu-check.sh --bundle DIR    # on a machine with node_modules: build DIR, a self-contained
#                                        # copy of the check (~25 MB) for machines without node_modules
#
# Without node_modules, the check runs from $GPU_CHECK_BUNDLE (default .hubmerge-tmp-gpu-check).
set -uo pipefail
cd "$(dirname "$0")/.."
BUNDLE="${GPU_CHECK_BUNDLE:-.hubmerge-tmp-gpu-check}"

if [ "${1:-}" = "--bundle" ]; then
  out="${2:-$BUNDLE}"
  rm -rf "$out" && mkdir -p "$out/node_modules/webgpu/dist"
  # The CPU benchmark finds child.mjs beside run.mjs, and both find the kernels beside themselves.
  npx esbuild test/merge/kernels/webgpu/device-check.ts bench/run.ts bench/child.ts --bundle --platform=node \
    --format=esm --target=node20 --external:webgpu --outdir="$out" --out-extension:.js=.mjs \
    --entry-names='[name]' --log-level=warning \
    --banner:js="import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" || exit 1
  cp src/merge/kernels/wasm/kernels.wasm src/merge/kernels/wasm/workers/kernel-worker.js "$out/"
  cp node_modules/webgpu/package.json node_modules/webgpu/index.js "$out/node_modules/webgpu/"
  cp -r node_modules/webgpu/dist/linux-x64 "$out/node_modules/webgpu/dist/"
  du -sh "$out"
  exit 0
fi

echo "== machine"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || echo "nvidia-smi: not available"
node --version

echo "== Vulkan for Dawn"
if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1'; then
  found=0
  for deb in .gl/*.deb; do
    [ -e "$deb" ] || continue
    dpkg -x "$deb" / && found=1 && echo "unpacked $deb"
  done
  [ "$found" = 1 ] && ldconfig
fi
ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1' && echo "Vulkan loader: present" || echo "Vulkan loader: MISSING (put libvulkan1's .deb in .gl/)"
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ -z "${VK_DRIVER_FILES:-}" ] && [ -f "$icd" ]; then export VK_DRIVER_FILES="$icd"; fi
for dir in /usr/local/nvidia/lib64 /usr/local/nvidia/lib; do
  [ -d "$dir" ] && export LD_LIBRARY_PATH="$dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
done
icds=$(ls /usr/share/vulkan/icd.d/*nvidia* /etc/vulkan/icd.d/*nvidia* 2>/dev/null)
if [ -z "${VK_DRIVER_FILES:-}" ] && [ -z "$icds" ]; then
  # The driver's Vulkan library is there but not its manifest: write one.
  glx=$( (ldconfig -p 2>/dev/null | grep -o '/[^ ]*libGLX_nvidia\.so\.0$'; ls /usr/local/nvidia/lib64/libGLX_nvidia.so.0 2>/dev/null) | head -1)
  if [ -n "$glx" ]; then
    printf '{"file_format_version":"1.0.1","ICD":{"library_path":"%s","api_version":"1.3.0"}}\n' "$glx" >/tmp/hubmerge-nvidia-icd.json
    export VK_DRIVER_FILES=/tmp/hubmerge-nvidia-icd.json
  fi
fi
echo "Vulkan ICDs: ${VK_DRIVER_FILES:-${icds:-none found}}"
echo "VK_DRIVER_FILES=${VK_DRIVER_FILES:-<unset>}  NVIDIA_DRIVER_CAPABILITIES=${NVIDIA_DRIVER_CAPABILITIES:-<unset>}"

export HUBMERGE_GPU_REQUIRE_HARDWARE=1
size="${GPU_CHECK_SIZE:-384M}"
status=0
started=$SECONDS
if [ -x node_modules/.bin/vitest ]; then
  echo "== vitest test/merge/kernels/webgpu (hardware adapter required)"
  npx vitest run test/merge/kernels/webgpu || status=1
  echo "== device check and benchmark"
  node --import tsx test/merge/kernels/webgpu/device-check.ts --size "$size" "$@" || status=1
elif [ -f "$BUNDLE/device-check.mjs" ]; then
  echo "== device check and benchmark (bundle $BUNDLE)"
  node "$BUNDLE/device-check.mjs" --size "$size" "$@" || status=1
else
  echo "neither node_modules nor $BUNDLE: run 'scripts/gpu-check.sh --bundle' where node_modules exists" >&2
  exit 2
fi
cpu_size="${GPU_CHECK_CPU_SIZE:-384MB}"
if [ "$cpu_size" != 0 ]; then
  echo "== CPU streaming benchmark ($cpu_size per model)"
  if [ -x node_modules/.bin/tsx ]; then
    npx tsx bench/run.ts --size "$cpu_size" --repeat 2 || status=1
  else
    node "$BUNDLE/run.mjs" --size "$cpu_size" --repeat 2 || status=1
  fi
fi
echo "== done in $((SECONDS - started)) s, status $status"
exit $status
