#!/bin/sh
# Rebuild models/pa-mini-llama from a bare Debian 12 (bookworm) machine.
# Needs root for apt-get. Everything is seeded; wall time about 90 minutes on 2 CPU cores.
# Resumable: re-running continues training from $WORK/run/last.pt.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
MODELS=$(dirname "$HERE")
OUTDIR="$MODELS/pa-mini-llama"
WORK=${WORK:-/tmp/pa-build}
PY=/usr/bin/python3
# Time mode: BUDGET seconds of training, 70% of the time on 256-token windows, 17% on 512, 13% on 2048
# (2048 tokens per step). Step counts instead of time: PHASES="256:8:N1,512:4:N2,2048:1:N3" BUDGET=0.
# The shipped model's exact history (it was resumed with changed settings) is in its README.
PHASES=${PHASES:-256:8:0.70,512:4:0.17,2048:1:0.13}
BUDGET=${BUDGET:-4800}
LAYERS=${LAYERS:-4}
export OPENBLAS_NUM_THREADS=1   # torch.set_num_threads(2) does the threading; oversubscription is 6x slower
export PYTHONHASHSEED=0

if [ "${SKIP_APT:-0}" != 1 ]; then
  apt-get update
  # libopenblas0-pthread: Debian's torch otherwise uses the reference BLAS (50x slower)
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
    python3-torch python3-onnx python3-numpy python3-regex libopenblas0-pthread \
    fortunes fortunes-min bible-kjv bible-kjv-text jargon-text wordnet-base dict-gcide \
    perl-doc python3.11-doc man-db manpages groff-base
fi
mkdir -p "$WORK"
cd "$HERE"
[ -f "$WORK/corpus/sources.json" ] || $PY build_corpus.py "$WORK/corpus"
[ -f "$WORK/tok/tokenizer.json" ] || $PY bpe.py train "$WORK/corpus" "$WORK/tok" 24
[ -f "$WORK/bins/tokens.json" ] || $PY bpe.py encode "$WORK/tok/tokenizer.json" "$WORK/corpus" "$WORK/bins"
$PY train.py --data "$WORK/bins" --out "$WORK/run" --layers "$LAYERS" --phases "$PHASES" --budget "$BUDGET" --warmup 100 --lr 2e-3 --copy-frac 0.25 --rand-frac 0.35
$PY export.py "$WORK/run/last.pt" "$WORK/tok" "$OUTDIR"
$PY analyze.py "$WORK/run/last.pt" "$OUTDIR" "$WORK/bins" "$WORK/corpus"
