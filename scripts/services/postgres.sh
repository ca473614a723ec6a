#!/usr/bin/env bash
# PostgreSQL server binaries for the feedback-store tests (tests/python/loop/conftest.py starts a
# throwaway cluster from them: initdb in a temporary directory, a free local port, run as the
# `postgres` user when we are root). Installs Debian's `postgresql` package when missing.
# Sourced or run by scripts/test.sh; LOOPWISE_SKIP_POSTGRES=1 skips the install (the tests then
# skip, or fail under CI=true).
set -euo pipefail

if [ "${LOOPWISE_SKIP_POSTGRES:-0}" != "1" ] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    printf '\n==== %s ====\n' "installing PostgreSQL (Debian) for the feedback-store tests"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql
  else
    echo "the PostgreSQL feedback-store tests need Debian's postgresql package (sudo apt-get install postgresql)," >&2
    echo "or LOOPWISE_SKIP_POSTGRES=1 to skip them" >&2
    exit 1
  fi
fi
# The Debian package starts a default cluster; the tests use their own, so it is not needed.
