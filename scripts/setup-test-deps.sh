#!/usr/bin/env bash
# Installs what the tests talk to that is not a Rust crate: headless Chromium for the
# dashboard test. PostgreSQL is expected at 127.0.0.1:5432 (trust auth, database `test`).
set -euo pipefail
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Debian's chromium for the dashboard test" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "warning: chromium is missing and cannot be installed here; the dashboard test will fail" >&2
  fi
fi
