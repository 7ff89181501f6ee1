"""Fail early, and say how to fix it, when PostgreSQL or Redis is not reachable."""

import os
import sys

import psycopg
import redis

database_url = os.environ["DATABASE_URL"]
redis_url = os.environ["REDIS_URL"]

try:
    name = database_url.rsplit("/", 1)[1].split("?")[0]
    with psycopg.connect(
        database_url.rsplit("/", 1)[0] + "/postgres", connect_timeout=5, autocommit=True
    ) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
except psycopg.OperationalError as error:
    sys.exit(
        f"PostgreSQL is not reachable at {database_url} ({error}).\n"
        "Start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start\n"
        "or point TEST_DATABASE_URL at a running server. The tests never fall back to SQLite."
    )
try:
    redis.Redis.from_url(redis_url, socket_connect_timeout=5).ping()
except redis.exceptions.ConnectionError as error:
    sys.exit(
        f"Redis is not reachable at {redis_url} ({error}).\n"
        'Start it with: redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save ""'
        " --appendonly no\nor point TEST_REDIS_URL at a running server."
    )
print("services: PostgreSQL and Redis reachable")
