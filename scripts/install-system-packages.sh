#!/usr/bin/env bash
# Installs the Debian packages the tests need (Python's venv, WordPress, MariaDB, PHP, Redis), only when one is
# missing.
# A policy-rc.d that refuses service starts keeps apache2 and the system MariaDB stopped:
# the tests run their own private instances on 127.0.0.1.
set -euo pipefail

# python3-venv and python3-pip first: scripts/venv.sh needs them, and then it does not run apt-get itself
# (one apt-get update for the whole set-up).
packages=(python3-venv python3-pip wordpress mariadb-server mariadb-client php-cli php-mysql php-gd php-xml
          php-mbstring php-curl php-intl redis-server curl git)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "install-system-packages: missing Debian packages: ${missing[*]} (run as root or install them)" >&2
  exit 1
fi
echo "install-system-packages: installing ${missing[*]}"
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy"
  chmod +x "$policy"
  created_policy=1
fi
trap '[ "$created_policy" -eq 1 ] && rm -f "$policy"' EXIT
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
