"""What the bench scripts share (they import this from bench/): each works in a PostgreSQL
database of its own, created fresh and dropped at the end, beside the one DATABASE_URL
names; and each prints its figures beside their goals."""

import os
import sys
from urllib.parse import urlparse, urlunparse

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/faultline"


def database_urls(name: str) -> tuple[str, str]:
    """(the bench database's URL, the server's maintenance database URL); exits with a
    message when DATABASE_URL is not PostgreSQL."""
    base = os.environ.get("DATABASE_URL", DEFAULT_URL)
    if not base.startswith("postgres"):
        sys.exit(f"{name} needs PostgreSQL: set DATABASE_URL=postgres://...")
    parsed = urlparse(base)
    return (
        urlunparse(parsed._replace(path=f"/{name}")),
        urlunparse(parsed._replace(path="/postgres")),
    )


def recreate_database(name: str, admin_url: str, drop_only: bool = False) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        if not drop_only:
            conn.execute(f"CREATE DATABASE {name}")


def use_database(name: str) -> tuple[str, str]:
    """Create the bench database `name` afresh and point Django at it (call before
    django.setup()). Returns database_urls(name)."""
    bench_url, admin_url = database_urls(name)
    recreate_database(name, admin_url)
    os.environ["DATABASE_URL"] = bench_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    return bench_url, admin_url


def verdict(met: bool) -> str:
    """A goal's verdict as the bench scripts print it."""
    return "ok" if met else "MISSED"
