#!/usr/bin/env bash
# Print the path of a Python >= 3.12 for the virtual environment, or explain what to install.
# Order: the version in .python-version through pyenv (newest patch first), then python3.13/3.12/python3 on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."

wanted=$(tr -d '[:space:]' < .python-version 2>/dev/null || true)
pyenv_root=${PYENV_ROOT:-$HOME/.pyenv}
candidates=()
if [ -n "$wanted" ] && [ -d "$pyenv_root/versions" ]; then
    while IFS= read -r version_dir; do
        candidates+=("$version_dir/bin/python")
    done < <(find "$pyenv_root/versions" -mindepth 1 -maxdepth 1 -name "$wanted*" | sort -V -r)
fi
candidates+=(python3.13 python3.12 python3)

for candidate in "${candidates[@]}"; do
    path=$(command -v "$candidate" 2>/dev/null) || continue
    # A pyenv shim for a version that is not selected exits non-zero here and is skipped.
    if "$path" -c 'import sys, venv; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
        echo "$path"
        exit 0
    fi
done

cat >&2 <<MESSAGE
エラー: Python 3.12 以上が見つかりません（Django 6 の要件です）。
  探した場所: ${pyenv_root}/versions/${wanted:-3.13}*, python3.13, python3.12, python3
  pyenv がある場合:  pyenv install ${wanted:-3.13}
  Debian/Ubuntu:     apt-get install python3.13 python3.13-venv（配布元にある場合）
Error: no Python >= 3.12 found (Django 6 needs it). Install ${wanted:-3.13}, e.g. with pyenv.
MESSAGE
exit 1
