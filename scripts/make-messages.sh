#!/usr/bin/env bash
# `make messages`: refresh the English catalog (locale/en/LC_MESSAGES/django.po) from the Japanese msgids in the
# Python code and templates. Existing translations are kept (makemessages merges with msgmerge); new msgids
# arrive with an empty msgstr, changed ones as "fuzzy" with the previous msgid: translate both and drop the
# fuzzy flag (docs/operations.md, 翻訳). Needs gettext (xgettext, msgmerge).
#
# --add-location=file names the file each string comes from but not the line: a translator still sees where a
# short label such as 「状態」 is used, and moving code around does not rewrite hundreds of "#:" lines in the diff.
# --no-wrap keeps each string on one line, so a diff shows the string that changed and grep finds it.
# --no-obsolete drops strings that left the code instead of piling them up as "#~" entries.
# The ignored directories are also those of mamori/core/tests/test_translations.py, which checks the catalog.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v xgettext >/dev/null || ! command -v msgmerge >/dev/null; then
    echo "エラー: xgettext / msgmerge（Debian パッケージ gettext）が必要です: bash scripts/debian-packages.sh gettext" >&2
    exit 1
fi
if [ ! -x .venv/bin/mamori ]; then
    echo "エラー: .venv がありません。先に make venv を実行してください。" >&2
    exit 1
fi

MAMORI_DEMO=1 .venv/bin/mamori makemessages --locale=en --domain=django \
    --extension=html,txt,py \
    --ignore=.venv --ignore=data --ignore=bench --ignore=test-results --ignore=node_modules --ignore='*.egg-info' \
    --add-location=file --no-wrap --no-obsolete
