#!/usr/bin/env bash
# Makes .venv at the repo root with the runtime packages (requirements.txt) and, with --test, the test tools.
# On a fresh Debian, python3 lacks venv/ensurepip: install python3-venv first when we can.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! python3 -c "import ensurepip, venv" 2>/dev/null; then
  if [ "$(id -u)" -eq 0 ]; then
    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends python3-venv
  else
    echo "venv: python3 cannot make virtualenvs; install python3-venv (apt-get install python3-venv)" >&2
    exit 1
  fi
fi

if [ -e .venv ] && ! [ -w .venv ]; then
  echo "venv: .venv is not writable by $(id -un) (made with sudo?): remove it, or run as its owner" >&2
  exit 1
fi
requirements=requirements.txt
[ "${1:-}" = "--test" ] && requirements=requirements-test.txt
# A .venv made by another python3 (an upgrade, a removed interpreter) or left without pip is made again.
version=$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
if ! [ "$(.venv/bin/python -c 'import pip, sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)" = "$version" ]; then
  [ -e .venv ] && echo "venv: .venv is not a working Python $version virtualenv; making it again" >&2
  python3 -m venv --clear .venv
fi
stamp=".venv/.installed-$(basename "$requirements" .txt)"
if [ -f "$stamp" ] && [ "$stamp" -nt "$requirements" ] && [ "$stamp" -nt requirements.txt ]; then
  exit 0
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -r "$requirements"
touch "$stamp"
