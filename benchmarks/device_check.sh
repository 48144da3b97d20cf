#!/usr/bin/env bash
# One device check of graphspike's kernels on a lent GPU (issue 18): build, CUDA tests, benchmarks.
#
# 1. Here (a machine with PyPI and ../shared/data), from the repository root, once per checkout:
#        bash benchmarks/device_check.sh --prepare
#    It fills .device/ (ignored through .git/info/exclude): the Gowalla training split
#    (.device/data/gowalla/train.txt), the wheels the device image lacks (.device/whl: spikingjelly
#    2.0.0 and its loguru and SciencePlots) and the commit being checked (.device/commit).
# 2. Then ONE call of the device tool, exactly:
#        run(command="bash benchmarks/device_check.sh", carry=[".device"], timeout_s=480)
#    The tool sends the checkout the SESSION was started in (for a helper, the coordinator's
#    checkout, not its worktree): make the call from a session whose checkout holds this script
#    and ran --prepare, with `git status` showing the code you mean to check.
#    On the device (Python 3.12, torch 2.11, triton, nvcc 13.0, pytest-xdist; no network) the
#    script installs the carried wheels into /tmp/site without network, builds the extension for
#    sm_90, runs `pytest -m cuda` over tests/ (collection errors do not stop it), then
#    benchmarks/kernels.py (ceilings, byte model, LIF vs spikingjelly's Triton path, SpMM vs
#    cuSPARSE on power-law and Gowalla graphs, zero-copy gather), the GPU part of
#    benchmarks/neighbor_sampling.py, and every other benchmark in GPU_BENCHMARKS that has a --device flag
#    (spiking_transformer.py; delays.py once it exists), in that order. Each step has a time
#    limit and the whole stays within DEVICE_CHECK_BUDGET seconds (default 430, under the 8
#    minutes the issue allows), so a slow step cannot eat the next ones. Everything lands in $OUT
#    (the tool returns at most 8 files): device_check.log (nvidia-smi included), summary.json,
#    pytest-cuda.xml, kernels-<gpu>.json and each other benchmark's *-cuda.json. Copy the JSON
#    into benchmarks/results/ afterwards and commit it. If it fails, the log says which step;
#    rerun it at once (the machine stays warm 30 s) or call give_back.
#
# DEVICE_CHECK_DRY=1 runs the same logic on a machine without a GPU (OUT defaults to a temporary
# folder): wheels install into a temporary target, the build step only prints its command, and the
# tests and benchmarks run in their CPU/--quick form, so every branch of this script is exercised.
# DEVICE_CHECK_TESTS (default "tests") and DEVICE_CHECK_KERNELS_ARGS (extra arguments of
# benchmarks/kernels.py) narrow the run, for tests of this script.
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1
REPO=$PWD
DEVICE_DIR=.device
DRY=${DEVICE_CHECK_DRY:-0}
BUDGET=${DEVICE_CHECK_BUDGET:-430}
PY=${PYTHON:-python3}
WHEELS=(spikingjelly==2.0.0 loguru==0.7.3 SciencePlots==2.2.2)
# benchmarks run with `--device cuda` after the kernels and sampling steps: name and time cap
GPU_BENCHMARKS=(spiking_transformer:40 delays:40)

prepare() {
  local data=${GRAPHSPIKE_DATA:-$REPO/../shared/data}
  mkdir -p "$DEVICE_DIR/whl" "$DEVICE_DIR/data/gowalla" || return 1
  cp "$data/gowalla/train.txt" "$DEVICE_DIR/data/gowalla/train.txt" || { echo "prepare: no $data/gowalla/train.txt" >&2; return 1; }
  rm -f "$DEVICE_DIR"/whl/*.whl
  "$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    -d "$DEVICE_DIR/whl" "${WHEELS[@]}" || return 1
  # the stamp the benchmarks write here (commit, '-dirty' after uncommitted edits): benchmarks/_common.git_commit
  env -u GRAPHSPIKE_COMMIT "$PY" -c "from benchmarks._common import git_commit; print(git_commit())" \
    > "$DEVICE_DIR/commit" || return 1
  local exclude
  exclude=$(git rev-parse --git-path info/exclude) || return 1
  mkdir -p "$(dirname "$exclude")"
  grep -qx "/$DEVICE_DIR/" "$exclude" 2>/dev/null || echo "/$DEVICE_DIR/" >> "$exclude"
  echo "prepared $DEVICE_DIR ($(du -sh "$DEVICE_DIR" | cut -f1)):" "$DEVICE_DIR"/whl/*.whl
  echo 'now: run(command="bash benchmarks/device_check.sh", carry=[".device"], timeout_s=480)'
}

if [ "${1:-}" = "--prepare" ]; then
  prepare
  exit $?
fi
if [ $# -gt 0 ]; then
  echo "usage: bash benchmarks/device_check.sh [--prepare]   (DEVICE_CHECK_DRY=1 for a CPU dry run)" >&2
  exit 2
fi

if [ "$DRY" = 1 ]; then
  OUT=${OUT:-$(mktemp -d /tmp/device_check.XXXXXX)}
fi
if [ -z "${OUT:-}" ]; then
  echo "device_check: OUT is not set (the device tool sets it; use DEVICE_CHECK_DRY=1 to try it here)" >&2
  exit 2
fi
mkdir -p "$OUT"
LOG=$OUT/device_check.log
exec > >(tee -a "$LOG") 2>&1

START=$(date +%s)
MARK=$(mktemp /tmp/device_check_start.XXXXXX)  # benchmark JSON newer than this was written by this run
STEPS=()
export PYTHONUNBUFFERED=1 OMP_NUM_THREADS=${OMP_NUM_THREADS:-8}
export GRAPHSPIKE_BUILD_DIR=${GRAPHSPIKE_BUILD_DIR:-/tmp/graphspike-build}
export GRAPHSPIKE_COMMIT
GRAPHSPIKE_COMMIT=$(cat "$DEVICE_DIR/commit" 2>/dev/null || git rev-parse HEAD 2>/dev/null || echo unknown)
PATH="$(dirname "$(command -v "$PY")"):$PATH"

remaining() { echo $((BUDGET - ($(date +%s) - START))); }

write_summary() {
  local steps_json
  steps_json=$(printf '%s,' "${STEPS[@]}")
  printf '{"commit": "%s", "dry_run": %s, "budget_s": %s, "elapsed_s": %s, "steps": [%s]}\n' \
    "$GRAPHSPIKE_COMMIT" "$([ "$DRY" = 1 ] && echo true || echo false)" "$BUDGET" \
    "$(($(date +%s) - START))" "${steps_json%,}" > "$OUT/summary.json"
}

# run_step NAME CAP_SECONDS CMD...: run CMD with at most min(CAP, remaining budget) seconds.
run_step() {
  local name=$1 cap=$2 left limit begin rc
  shift 2
  left=$(remaining)
  limit=$((cap < left ? cap : left))
  if [ "$limit" -lt 5 ]; then
    echo "=== $name: skipped (budget spent)"
    STEPS+=("{\"step\": \"$name\", \"rc\": null, \"seconds\": 0, \"note\": \"skipped: budget spent\"}")
    write_summary
    return 0
  fi
  echo "=== $name (limit ${limit}s): $*"
  begin=$(date +%s)
  timeout --signal=TERM --kill-after=10 "$limit" "$@"
  rc=$?
  local note=""
  if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then note="timed out after ${limit}s"; fi
  echo "=== $name: rc=$rc in $(($(date +%s) - begin))s $note"
  STEPS+=("{\"step\": \"$name\", \"rc\": $rc, \"seconds\": $(($(date +%s) - begin)), \"limit_s\": $limit, \"note\": \"$note\"}")
  write_summary
  return 0
}

echo "device_check: commit $GRAPHSPIKE_COMMIT, budget ${BUDGET}s, dry=$DRY, out=$OUT"
if [ "$DRY" = 1 ]; then
  SITE=$(mktemp -d /tmp/device_check_site.XXXXXX)
  DEVICE_ARGS=(--device cpu --quick)
else
  SITE=/tmp/site
  if ! nvidia-smi; then
    echo "device_check: nvidia-smi failed: no GPU here (set DEVICE_CHECK_DRY=1 for a dry run)"
    exit 3
  fi
  DEVICE_ARGS=(--device cuda --repeats 10)
fi

# 1. wheels the image lacks, without network
if compgen -G "$DEVICE_DIR/whl/*.whl" > /dev/null; then
  run_step install 40 "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target "$SITE" "$DEVICE_DIR"/whl/*.whl
else
  echo "=== install: no wheels in $DEVICE_DIR/whl (run --prepare here first); spikingjelly parts will fail"
fi
export PYTHONPATH="$REPO:$SITE${PYTHONPATH:+:$PYTHONPATH}"
"$PY" -c 'import torch, sys; print("python", sys.version.split()[0], "torch", torch.__version__, "cuda", torch.version.cuda, "gpu", torch.cuda.get_device_name(0) if torch.cuda.is_available() else None)'

# 2. the extension, for the GPU of this machine (Hopper: sm_90)
if [ "$DRY" = 1 ]; then
  echo "=== build (dry run): MAX_JOBS=16 $PY -m cuda_ext build --arch 9.0 --quiet --require"
  STEPS+=('{"step": "build", "rc": null, "seconds": 0, "note": "dry run: not compiled"}')
else
  run_step build 170 env MAX_JOBS=16 "$PY" -m cuda_ext build --arch 9.0 --quiet --require
  "$PY" -m cuda_ext info
fi

# 3. the CUDA tests (they FAIL rather than skip if the build above did not produce a usable extension)
XDIST=()
if "$PY" -c 'import xdist' 2> /dev/null && [ "$DRY" != 1 ]; then XDIST=(-n 4); fi
read -r -a TEST_PATHS <<< "${DEVICE_CHECK_TESTS:-tests}"
run_step pytest_cuda 110 "$PY" -m pytest -m cuda -q -p no:cacheprovider -rfE "${XDIST[@]}" \
  --continue-on-collection-errors --junitxml="$OUT/pytest-cuda.xml" "${TEST_PATHS[@]}"

# 4. kernel benchmarks (the script fails fast on a GPU without the extension)
ROOT_ARGS=()
if [ -f "$DEVICE_DIR/data/gowalla/train.txt" ]; then ROOT_ARGS=(--root "$DEVICE_DIR/data"); fi
read -r -a KERNELS_EXTRA <<< "${DEVICE_CHECK_KERNELS_ARGS:-}"
run_step kernels 120 "$PY" benchmarks/kernels.py "${DEVICE_ARGS[@]}" "${ROOT_ARGS[@]}" "${KERNELS_EXTRA[@]}" --out "$OUT"

# 5. the GPU part of the sampling benchmark, with whichever flags it has
if [ -f benchmarks/neighbor_sampling.py ]; then
  HELP=$("$PY" benchmarks/neighbor_sampling.py --help 2>&1 || true)
  SAMPLING_ARGS=()
  for flag in --gpu-only --gpu; do
    if grep -q -- "$flag\b" <<< "$HELP"; then SAMPLING_ARGS+=("$flag"); break; fi
  done
  if [ ${#SAMPLING_ARGS[@]} -eq 0 ] && grep -q -- "--device" <<< "$HELP"; then
    SAMPLING_ARGS+=(--device "$([ "$DRY" = 1 ] && echo cpu || echo cuda)")
  fi
  if [ "$DRY" = 1 ] && grep -q -- "--quick" <<< "$HELP"; then SAMPLING_ARGS+=(--quick); fi
  if grep -q -- "--out" <<< "$HELP"; then SAMPLING_ARGS+=(--out "$OUT"); fi
  run_step sampling 60 "$PY" benchmarks/neighbor_sampling.py "${SAMPLING_ARGS[@]}"
else
  echo "=== sampling: benchmarks/neighbor_sampling.py not in this checkout; skipped"
  STEPS+=('{"step": "sampling", "rc": null, "seconds": 0, "note": "benchmarks/neighbor_sampling.py absent"}')
fi

# 6. other benchmarks with a GPU mode; they write benchmarks/results/<name>-cuda.json, copied to $OUT below
for entry in "${GPU_BENCHMARKS[@]}"; do
  name=${entry%%:*}
  cap=${entry##*:}
  if [ ! -f "benchmarks/$name.py" ]; then
    echo "=== $name: benchmarks/$name.py not in this checkout; skipped"
    STEPS+=("{\"step\": \"$name\", \"rc\": null, \"seconds\": 0, \"note\": \"absent\"}")
  else
    HELP=$("$PY" benchmarks/"$name".py --help 2>&1)
    help_rc=$?
    if ! grep -q -- "--device" <<< "$HELP"; then
      echo "=== $name: no --device flag (--help rc=$help_rc); skipped"
      STEPS+=("{\"step\": \"$name\", \"rc\": null, \"seconds\": 0, \"note\": \"no --device flag\"}")
    elif [ "$DRY" = 1 ]; then  # a CPU run of a model benchmark takes minutes: it starts and parses, enough here
      echo "=== $name (dry run): --help rc=$help_rc; on the device: $PY benchmarks/$name.py --device cuda"
      STEPS+=("{\"step\": \"$name\", \"rc\": $help_rc, \"seconds\": 0, \"note\": \"dry run: --help only\"}")
    else
      run_step "$name" "$cap" "$PY" benchmarks/"$name".py --device cuda
    fi
  fi
done
find benchmarks/results -maxdepth 1 -name '*-cuda.json' -newer "$MARK" \
  -exec cp {} "$OUT"/ \; 2> /dev/null

write_summary
echo "=== done in $(($(date +%s) - START))s; files in $OUT:"
rm -f "$MARK"
ls -la "$OUT"
cat "$OUT/summary.json"
