#!/usr/bin/env bash
# The README's second command (`make test`): install what the tests need, then lint, migration check and the
# whole suite on SQLite and on PostgreSQL. Every step runs even after a failure; the exit code is non-zero if any failed.
#
# PostgreSQL: TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/mamori; Django creates test_mamori).
# When it cannot be reached the PostgreSQL run is skipped with a warning, or fails when CI=true.
# PYTEST_WORKERS (default 2) sets pytest-xdist's process count; 0 runs in one process.
set -euo pipefail
cd "$(dirname "$0")/.."

pg_url=${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/mamori}
workers=${PYTEST_WORKERS:-2}
failed=()
timings=()

run_step() {
    local name=$1
    shift
    local started=$SECONDS
    echo
    echo "==> ${name}"
    if "$@"; then
        timings+=("$(printf '%4ds  ok    %s' $((SECONDS - started)) "$name")")
    else
        timings+=("$(printf '%4ds  FAIL  %s' $((SECONDS - started)) "$name")")
        failed+=("$name")
    fi
}

postgres_reachable() {
    .venv/bin/python - "$pg_url" <<'PYTHON'
import sys
from urllib.parse import unquote, urlsplit

import psycopg

url = urlsplit(sys.argv[1])
# The maintenance database: Django connects there to create the test database.
psycopg.connect(
    host=url.hostname or "127.0.0.1",
    port=url.port or 5432,
    user=unquote(url.username or "postgres"),
    password=unquote(url.password or "") or None,
    dbname="postgres",
    connect_timeout=3,
).close()
PYTHON
}

pytest_args=(-q)
if [ "$workers" -gt 0 ]; then
    pytest_args+=(-n "$workers")
fi

bash scripts/setup-venv.sh test
# Browser tests drive Debian's Chromium (Playwright downloads no browser here); the CJK font renders Japanese;
# gettext compiles the translation catalogs; the report-mailbox tests run a private Dovecot; IPAex Gothic is
# the Japanese font embedded in the metrics PDF report.
bash scripts/debian-packages.sh chromium fonts-noto-cjk gettext dovecot-imapd fonts-ipaexfont-gothic
bash scripts/compile-messages.sh

export DJANGO_SETTINGS_MODULE=mamori.test_settings
run_step "ruff check" .venv/bin/ruff check .
run_step "ruff format --check" .venv/bin/ruff format --check .
run_step "makemigrations --check" .venv/bin/mamori makemigrations --check --dry-run
run_step "pytest (SQLite)" env -u DATABASE_URL .venv/bin/pytest "${pytest_args[@]}"
if postgres_reachable 2>/dev/null; then
    run_step "pytest (PostgreSQL)" env DATABASE_URL="$pg_url" .venv/bin/pytest "${pytest_args[@]}"
elif [ "${CI:-}" = "true" ]; then
    echo "エラー: PostgreSQL（${pg_url}）に接続できません。CI では PostgreSQL でのテストが必須です。" >&2
    failed+=("pytest (PostgreSQL): 接続できません")
else
    echo "警告: PostgreSQL（${pg_url}）に接続できないため、PostgreSQL でのテストを省略しました。" >&2
    timings+=("   -  skip  pytest (PostgreSQL)")
fi

echo
echo "==> まとめ"
printf '%s\n' "${timings[@]}"
if [ ${#failed[@]} -gt 0 ]; then
    echo "失敗: ${failed[*]}" >&2
    exit 1
fi
echo "すべて成功しました。"
