#!/usr/bin/env bash
# Install the Debian packages named as arguments when some are missing and we are root; otherwise say what is missing.
set -euo pipefail

missing=()
for package in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
    echo "警告: Debian パッケージ ${missing[*]} がありません（root で apt-get install -y ${missing[*]}）。" >&2
    exit 0
fi
echo "==> Debian パッケージをインストールします: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q "${missing[@]}"
