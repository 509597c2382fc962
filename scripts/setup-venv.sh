#!/usr/bin/env bash
# Create .venv with a Python >= 3.12 and install mamori into it (editable), again whenever pyproject.toml changes.
# Usage: scripts/setup-venv.sh [test]   — "test" adds the test extras (pytest, playwright, ruff …).
set -euo pipefail
cd "$(dirname "$0")/.."

extras=${1:-}
export PIP_DISABLE_PIP_VERSION_CHECK=1

if [ -x .venv/bin/python ] && ! .venv/bin/python -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
    echo "==> .venv の Python が古いため作り直します"
    rm -rf .venv
fi
if [ ! -x .venv/bin/python ]; then
    python=$(bash scripts/find-python.sh)
    echo "==> 仮想環境 .venv を作成します（$("$python" --version)）"
    "$python" -m venv .venv
fi

# The test extras include everything the demo needs, so either stamp satisfies a plain install.
stamp=".venv/.installed${extras:+-$extras}"
up_to_date() { [ -f "$1" ] && [ "$1" -nt pyproject.toml ]; }
if up_to_date "$stamp" || { [ -z "$extras" ] && up_to_date .venv/.installed-test; }; then
    exit 0
fi
echo "==> 依存パッケージをインストールします（pip install -e .${extras:+[$extras]}）"
.venv/bin/python -m pip install --quiet --editable ".${extras:+[$extras]}"
touch "$stamp"
