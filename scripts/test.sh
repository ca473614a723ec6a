#!/usr/bin/env bash
# The one test command: installs loopwise with its test extras, builds and runs the
# GoogleTest suite (plain and under AddressSanitizer + UndefinedBehaviorSanitizer) through
# ctest, then runs pytest. CI (.ci/run) calls exactly this script.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3}"
JOBS="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc 2>/dev/null || echo 2)}"
export CMAKE_BUILD_PARALLEL_LEVEL="$JOBS"

section() { printf '\n==== %s ====\n' "$*"; }

# --- system packages -------------------------------------------------------------------
need=()
[ -f /usr/include/gtest/gtest.h ] || need+=(libgtest-dev)
[ -d /usr/include/eigen3 ] || need+=(libeigen3-dev)
command -v g++ >/dev/null 2>&1 || need+=(g++)
command -v cmake >/dev/null 2>&1 || "$PYTHON" -m cmake --version >/dev/null 2>&1 || need+=(cmake)
if [ "${#need[@]}" -gt 0 ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    section "installing system packages: ${need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
  else
    echo "loopwise tests need these system packages: ${need[*]}" >&2
    echo "install them, e.g.: sudo apt-get install ${need[*]}" >&2
    exit 1
  fi
fi

# --- headless Chromium for the visual report checks (tests/python/test_reports_visual.py) --
if ! command -v chromium >/dev/null 2>&1 && [ "${LOOPWISE_SKIP_BROWSER:-0}" != "1" ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    section "installing chromium (Debian) for the report screenshots"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
  else
    echo "the visual report tests need Debian's chromium (sudo apt-get install chromium)," >&2
    echo "or LOOPWISE_SKIP_BROWSER=1 to skip them" >&2
    exit 1
  fi
fi

# --- the package, as a user installs it ------------------------------------------------
section "pip install .[test]"
"$PYTHON" -m pip install --quiet --disable-pip-version-check ".[test]"
# Build tools for the C++ test builds below (already present when pip built the wheel).
"$PYTHON" -m pip install --quiet --disable-pip-version-check "pybind11>=2.12" "cmake>=3.18" ninja

CMAKE="cmake"
command -v cmake >/dev/null 2>&1 || CMAKE="$PYTHON -m cmake"
GENERATOR=()
command -v ninja >/dev/null 2>&1 && GENERATOR=(-G Ninja)

run_ctest() {  # $1 build dir, rest: extra cmake definitions
  local dir="$1"; shift
  $CMAKE -S . -B "$dir" "${GENERATOR[@]}" -DBUILD_TESTING=ON -DLOOPWISE_BUILD_PYTHON=OFF \
    -DPython_EXECUTABLE="$(command -v "$PYTHON")" "$@" >"$dir.configure.log" 2>&1 \
    || { cat "$dir.configure.log"; return 1; }
  $CMAKE --build "$dir" --parallel "$JOBS"
  (cd "$dir" && ctest --output-on-failure --parallel "$JOBS")
}

mkdir -p build
section "GoogleTest (Release)"
run_ctest build/gtest-release -DCMAKE_BUILD_TYPE=Release

section "GoogleTest (AddressSanitizer + UndefinedBehaviorSanitizer)"
ASAN_OPTIONS="detect_leaks=1:abort_on_error=1" UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
  run_ctest build/gtest-sanitize -DCMAKE_BUILD_TYPE=Debug -DLOOPWISE_SANITIZE=ON -DLOOPWISE_USE_OPENMP=OFF

# --- Apache Airflow in its own virtual environment, for tests/python/test_airflow_example.py --
# Cached in build/airflow-venv (kept between runs on the same machine). It sees the loopwise
# under test through --system-site-packages. LOOPWISE_SKIP_AIRFLOW=1 skips the install; the
# test then skips too. Without that variable a missing Airflow makes the test FAIL.
AIRFLOW_VENV="build/airflow-venv"
if [ "${LOOPWISE_SKIP_AIRFLOW:-0}" != "1" ] && [ ! -x "$AIRFLOW_VENV/bin/airflow" ]; then
  section "installing Apache Airflow 3 into $AIRFLOW_VENV (once; cached)"
  rm -rf "$AIRFLOW_VENV"
  "$PYTHON" -m venv --system-site-packages "$AIRFLOW_VENV"
  "$AIRFLOW_VENV/bin/pip" install --quiet --disable-pip-version-check "apache-airflow>=3.0,<4"
fi
if [ "${LOOPWISE_SKIP_AIRFLOW:-0}" != "1" ]; then
  # The venv sees the system site-packages; Airflow's anyio needs a newer typing_extensions
  # (typing_extensions.sentinel) than the one loopwise's own install may have left there.
  "$AIRFLOW_VENV/bin/pip" install --quiet --disable-pip-version-check --upgrade typing_extensions
fi
export LOOPWISE_AIRFLOW_VENV="$ROOT/$AIRFLOW_VENV"

# Java 17 for the Spark tests (tests/python/scale).
bash scripts/services/java.sh
bash scripts/services/postgres.sh  # PostgreSQL binaries for the feedback-store tests

section "pytest"
# Run from the tests folder so the installed package (not the source tree) is imported.
set +e
(cd tests && "$PYTHON" -m pytest -q "$@" python)
status=$?
set -e
if [ "$status" -eq 5 ]; then
  echo "pytest collected no tests: that is a failure of the test command" >&2
  exit 1
fi
exit "$status"
