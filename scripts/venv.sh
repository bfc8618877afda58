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
# A .venv whose python no longer runs (a removed interpreter), or runs without pip (left half made, or its python
# upgraded under it: its packages are another version's), is made again; any other is kept, whatever its version.
if ! .venv/bin/python -c 'import pip' >/dev/null 2>&1; then
  [ -e .venv ] && echo "venv: .venv has no working python with pip; making it again" >&2
  python3 -m venv --clear .venv
fi
stamp=".venv/.installed-$(basename "$requirements" .txt)"
if [ -f "$stamp" ] && [ "$stamp" -nt "$requirements" ] && [ "$stamp" -nt requirements.txt ]; then
  exit 0
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -r "$requirements"
touch "$stamp"
