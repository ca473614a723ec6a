#!/usr/bin/env bash
# Developer build: compiles loopwise._core into python/loopwise/ in place (use with
# PYTHONPATH=python) and, with --tests, the GoogleTest binary in build/dev-tests.
# Usage: scripts/dev-build.sh [--tests]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3}"
PYBIND11_DIR="$("$PYTHON" -m pybind11 --cmakedir)"
cmake -S . -B build/dev -G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF \
  -DPython_EXECUTABLE="$(command -v "$PYTHON")" -Dpybind11_DIR="$PYBIND11_DIR" \
  -DCMAKE_LIBRARY_OUTPUT_DIRECTORY="$ROOT/python/loopwise" >/dev/null
cmake --build build/dev
if [ "${1:-}" = "--tests" ]; then
  cmake -S . -B build/dev-tests -G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=ON \
    -DLOOPWISE_BUILD_PYTHON=OFF -DPython_EXECUTABLE="$(command -v "$PYTHON")" >/dev/null
  cmake --build build/dev-tests
  (cd build/dev-tests && ctest --output-on-failure -j2)
fi
