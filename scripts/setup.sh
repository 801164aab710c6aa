#!/usr/bin/env bash
# Sets codeb-report up on a fresh Debian 12 / Ubuntu machine: system packages, a virtual
# environment in .venv and the project in it. Run as root or with sudo available.
# Usage: scripts/setup.sh [--test]   (--test also installs what the test suite runs)
set -euo pipefail
cd "$(dirname "$0")/.."

with_tests=0
[ "${1:-}" = "--test" ] && with_tests=1

sudo_cmd=""
[ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"

mapfile -t packages < <(grep -v '^\s*#' scripts/apt-packages.txt | awk 'NF{print $1}')
if [ "$with_tests" = 1 ]; then
  mapfile -t -O "${#packages[@]}" packages < <(grep -v '^\s*#' scripts/apt-packages-test.txt | awk 'NF{print $1}')
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}"
  # Installed here for the tests only: not left as services on 9090/9100 (the tests start
  # their own on random ports). A Prometheus that was installed before is left alone.
  for service in prometheus prometheus-node-exporter; do
    if [ "$with_tests" = 1 ] && printf '%s\n' "${missing[@]}" | grep -qx "$service"; then
      if [ -d /run/systemd/system ]; then
        $sudo_cmd systemctl disable --now "$service" >/dev/null 2>&1 || true
      else
        $sudo_cmd service "$service" stop >/dev/null 2>&1 || true
      fi
    fi
  done
fi

python=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
if [ "$with_tests" = 1 ]; then
  .venv/bin/python -m pip install -q -e '.[test]'
  # An editable install leaves the sources uncompiled (pip compiles only what it copies):
  # byte-compile them as a normal install does, or every command compiles each module it
  # imports again (0.06 s of a PDF, more with PYTHONDONTWRITEBYTECODE set). __pycache__
  # stays out of git (.gitignore); a changed source is recompiled when it is imported.
  .venv/bin/python -m compileall -q codeb_report
else
  .venv/bin/python -m pip install -q .
fi
