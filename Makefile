# The README's two commands: `make demo` runs the demo, `make test` runs every check and test.

.PHONY: demo test venv format messages

# Create .venv, install mamori, prepare SQLite and the demo ward, start everything (Ctrl-C stops all).
demo:
	bash scripts/setup-venv.sh
	bash scripts/debian-packages.sh gettext fonts-ipaexfont-gothic
	bash scripts/compile-messages.sh
	.venv/bin/mamori demo

# Install what the tests need (Debian packages too when root), lint, check migrations, test on SQLite and PostgreSQL.
test:
	bash scripts/test.sh

# The virtual environment with the test tools, without running anything.
venv:
	bash scripts/setup-venv.sh test

format: venv
	.venv/bin/ruff format .
	.venv/bin/ruff check --fix .

# Refresh the English catalog (locale/en/LC_MESSAGES/django.po) from the code, keeping existing translations.
messages:
	bash scripts/debian-packages.sh gettext
	bash scripts/make-messages.sh
