#!/bin/sh
# Makes the venv of bench.R's peers and prints its python's path (the last line of stdout).
#
#   inst/bench/setup_peers.sh [VENV]
#
# VENV: the argument, else $DECONV_BENCH_VENV, else build/bench-venv. Creates it with
# `python3 -m venv` ($PYTHON instead of python3 if set) when it has no python, then
# pip-installs whichever of torch, onnxruntime, openvino, onnx and numpy it cannot import;
# when all import it does nothing more, so a second run takes a second or two.
# $DECONV_BENCH_PIP_ARGS goes to pip install as extra arguments, e.g.
# "--index-url https://download.pytorch.org/whl/cpu" for a CPU-only torch (PyPI's default
# torch wheel brings the CUDA libraries, which bench.R does not use: its peers run on the CPU).
set -eu

venv=${1:-${DECONV_BENCH_VENV:-build/bench-venv}}
py=$venv/bin/python

if [ ! -x "$py" ]; then
  echo "setup_peers.sh: creating the venv $venv" >&2
  "${PYTHON:-python3}" -m venv "$venv" >&2
fi

# The modules the peers import, with their pip names (the same here). Presence and versions
# come from the installed metadata, without importing torch (seconds) on every run;
# bench.R's probe of each peer imports them.
check='import importlib.metadata as md, importlib.util as u, sys
mods = sys.argv[1:]
missing = [m for m in mods if u.find_spec(m) is None]
print(" ".join(missing))
if not missing:
    print("setup_peers.sh: " + ", ".join("%s %s" % (m, md.version(m)) for m in mods),
          file=sys.stderr)'
mods="torch onnxruntime openvino onnx numpy"

# shellcheck disable=SC2086  # $mods and the extra pip arguments are split on purpose
missing=$("$py" -c "$check" $mods)
if [ -n "$missing" ]; then
  echo "setup_peers.sh: installing $missing into $venv" >&2
  # shellcheck disable=SC2086
  "$py" -m pip install --disable-pip-version-check ${DECONV_BENCH_PIP_ARGS:-} $missing >&2
  # shellcheck disable=SC2086
  missing=$("$py" -c "$check" $mods)
  if [ -n "$missing" ]; then
    echo "setup_peers.sh: still missing after pip install: $missing" >&2
    exit 1
  fi
fi

# The absolute path, so that a caller can put it in DECONV_BENCH_TORCH2 / _ONNX as it is.
echo "$(cd "$(dirname "$py")" && pwd)/$(basename "$py")"
