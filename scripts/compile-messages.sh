#!/usr/bin/env bash
# Compile the translation catalogs (locale/*/LC_MESSAGES/*.po → .mo) when there are any; needs gettext's msgfmt.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! find locale mamori -name '*.po' -path '*LC_MESSAGES*' 2>/dev/null | grep -q .; then
    exit 0
fi
if ! command -v msgfmt >/dev/null; then
    echo "警告: msgfmt（Debian パッケージ gettext）がないため翻訳をコンパイルできません。" >&2
    exit 0
fi
MAMORI_TESTING=1 .venv/bin/mamori compilemessages --ignore=.venv --ignore=node_modules --verbosity=0
