#!/bin/sh
# Rebuild models/pa-mini-llama from a bare Debian 12 (bookworm) machine.
# Needs root for apt-get. Everything is seeded; wall time about 80 minutes on 2 CPU cores.
# Resumable: re-running continues training from $WORK/run/last.pt.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
MODELS=$(dirname "$HERE")
OUTDIR="$MODELS/pa-mini-llama"
WORK=${WORK:-/tmp/pa-build}
PY=/usr/bin/python3
STEPS=${STEPS:-1500}          # total optimizer steps (16 x 512 tokens each)
LONG_STEPS=${LONG_STEPS:-100} # final steps on 2048-token windows (4 x 2048)
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
$PY train.py --data "$WORK/bins" --out "$WORK/run" --layers "$LAYERS" --steps "$STEPS" --long-steps "$LONG_STEPS"
$PY export.py "$WORK/run/last.pt" "$WORK/tok" "$OUTDIR"
$PY analyze.py "$WORK/run/last.pt" "$OUTDIR" "$WORK/bins" "$WORK/corpus"
