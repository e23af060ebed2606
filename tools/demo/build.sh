#!/bin/sh
# Rebuilds assets/demo-model/ from nothing: corpus -> tokenizer -> trained tiny Llama.
# Needs Node >= 20 (npm ci done) and Debian's PyTorch:  apt-get install -y python3-torch
# Optional but ~10x faster (Debian's torch links the reference BLAS by default):
#   apt-get install -y libopenblas0-pthread   (used through LD_LIBRARY_PATH below only)
# Seeds are fixed; the result is bit-identical for the same torch build, BLAS and thread count.
set -eu
cd "$(dirname "$0")/../.."
MODEL_DIR=${MODEL_DIR:-assets/demo-model}
CORPUS_DIR=${CORPUS_DIR:-.cache/demo-corpus}
npm run build --silent
node dist/tools/demo/make-corpus.js --model-dir "$MODEL_DIR" --corpus-dir "$CORPUS_DIR" --seed 1 --docs 40000
OPENBLAS_DIR=/usr/lib/x86_64-linux-gnu/openblas-pthread
if [ -d "$OPENBLAS_DIR" ]; then
  export LD_LIBRARY_PATH="$OPENBLAS_DIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
/usr/bin/python3 tools/demo/train.py --corpus-dir "$CORPUS_DIR" --model-dir "$MODEL_DIR" --seed 1 "$@"
