"""Database and Django setup shared by the benchmarks: each creates its own database and migrates it."""

import os
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
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        Path(parts.path).unlink(missing_ok=True)
        return
    import psycopg

    name = parts.path.lstrip("/")
    with psycopg.connect(libpq_url(url, "postgres"), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def drop_database(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        Path(parts.path).unlink(missing_ok=True)
        return
    import psycopg

    name = parts.path.lstrip("/")
    with psycopg.connect(libpq_url(url, "postgres"), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def mamori_environment(url: str, data_dir: Path | None = None) -> dict[str, str]:
    environment = {
        **os.environ,
        "DATABASE_URL": url,
        "MAMORI_TESTING": "1",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }
    if data_dir is not None:
        environment["MAMORI_DATA_DIR"] = str(data_dir)
    return environment


def manage(url: str, *arguments: str, data_dir: Path | None = None) -> None:
    """Run ``mamori <arguments>`` against the run's database in a child process."""
    subprocess.run(
        [sys.executable, "-m", "mamori", *arguments], check=True, cwd=ROOT, env=mamori_environment(url, data_dir)
    )


def setup_django(url: str, data_dir: Path | None = None) -> None:
    """Configure Django in this process for the run's database."""
    os.environ.update(mamori_environment(url, data_dir))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mamori.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
