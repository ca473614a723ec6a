#!/usr/bin/env bash
# Java for the Spark tests (tests/python/scale): Debian's openjdk-17-jre-headless when no
# `java` is on PATH. Sourced or run by scripts/test.sh before pytest. As root it installs with
# apt-get; otherwise it says what to install. LOOPWISE_SKIP_JAVA=1 skips it (the Spark tests
# then skip outside CI and fail under CI=true).
set -euo pipefail

if [ "${LOOPWISE_SKIP_JAVA:-0}" = "1" ] || command -v java >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  printf '\n==== %s ====\n' "installing Java 17 (openjdk-17-jre-headless) for the Spark tests"
  apt-get update -qq
  # The JRE's post-install step expects the man page folder that slim Debian images drop.
  mkdir -p /usr/share/man/man1
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openjdk-17-jre-headless
  java -version
else
  echo "the Spark tests need Java 17: sudo apt-get install openjdk-17-jre-headless" >&2
  echo "(or LOOPWISE_SKIP_JAVA=1 to skip them outside CI)" >&2
  exit 1
fi
