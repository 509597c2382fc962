"""Database and Django setup shared by the benchmarks: each creates its own database and migrates it."""

import os
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent


def libpq_url(url: str, database: str | None = None) -> str:
    """The URL as libpq spells it (postgresql://), optionally pointing at another database of the server."""
    parts = urlsplit(url)
    if database is not None:
        parts = parts._replace(path=f"/{database}")
    return parts._replace(scheme="postgresql").geturl()


def reset_database(url: str) -> None:
    """Drop the run's database (or SQLite file) and create it empty."""
    drop_database(url)
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        return
    import psycopg

    with psycopg.connect(libpq_url(url, "postgres"), autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{parts.path.lstrip("/")}"')


def drop_database(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        Path(parts.path).unlink(missing_ok=True)
        return
    import psycopg

    name = parts.path.lstrip("/")
    with psycopg.connect(libpq_url(url, "postgres"), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def free_port() -> int:
    """A loopback port nobody listens on (for the run's SMTP sink or web server)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def add_database_argument(parser, database: str) -> None:
    """The --database-url option every bench has: a database of its own, created for the run."""
    parser.add_argument(
        "--database-url",
        default=f"postgres://postgres@127.0.0.1:5432/{database}",
        help="database to create for the run (dropped first); sqlite:///path works too",
    )


def mamori_environment(url: str, data_dir: Path | None = None, **extra: str) -> dict[str, str]:
    """The environment of a mamori process of the run; ``extra`` adds settings (e.g. EMAIL_PORT)."""
    environment = {
        **os.environ,
        "DATABASE_URL": url,
        "MAMORI_TESTING": "1",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
        **extra,
    }
    if data_dir is not None:
        environment["MAMORI_DATA_DIR"] = str(data_dir)
    return environment


def manage(url: str, *arguments: str, data_dir: Path | None = None, **extra: str) -> None:
    """Run ``mamori <arguments>`` against the run's database in a child process."""
    subprocess.run(
        [sys.executable, "-m", "mamori", *arguments],
        check=True,
        cwd=ROOT,
        env=mamori_environment(url, data_dir, **extra),
    )


def setup_django(url: str, data_dir: Path | None = None, **extra: str) -> None:
    """Configure Django in this process for the run's database."""
    os.environ.update(mamori_environment(url, data_dir, **extra))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mamori.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
