"""The `mamori` command: Django's manage.py under the project's own name."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mamori.settings")
    # `mamori demo` is the README's first command: it must start with no configuration at all.
    if sys.argv[1:2] == ["demo"]:
        os.environ.setdefault("MAMORI_DEMO", "1")
    from django.core.management import execute_from_command_line

    arguments = sys.argv[1:]
    # `mamori import-roster` reads better than Django's module name `import_roster`; both work.
    if arguments and not arguments[0].startswith("-"):
        arguments[0] = arguments[0].replace("-", "_")
    execute_from_command_line(["mamori", *arguments])


if __name__ == "__main__":
    main()
