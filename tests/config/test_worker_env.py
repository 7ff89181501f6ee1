"""Parallel workers do not share Redis or media (tests/worker_env.py)."""

import os

import pytest
from django.conf import settings

from tests.worker_env import worker_redis_url


def test_each_worker_gets_the_next_database_after_the_one_named():
    assert worker_redis_url("redis://127.0.0.1:6379/0", "gw0") == "redis://127.0.0.1:6379/1"
    assert worker_redis_url("redis://127.0.0.1:6379/7", "gw1") == "redis://127.0.0.1:6379/9"
    assert worker_redis_url("redis://127.0.0.1:6379", "gw2") == "redis://127.0.0.1:6379/3"


def test_too_many_workers_for_redis_is_an_error_that_says_so(monkeypatch):
    import tests.worker_env

    # Redis's default of 16 databases, whatever FAULTLINE_REDIS_DATABASES says here.
    monkeypatch.setattr(tests.worker_env, "REDIS_DATABASES", 16)
    with pytest.raises(RuntimeError, match="Redis database 16"):
        worker_redis_url("redis://127.0.0.1:6379/14", "gw1")


def test_this_process_uses_its_own_redis_database_and_media_folder():
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker is None:  # a serial run keeps what the environment says
        assert settings.REDIS_URL == os.environ.get("REDIS_URL", "")
        return
    shared = os.environ["FAULTLINE_SHARED_REDIS_URL"]
    assert settings.REDIS_URL == worker_redis_url(shared, worker) != shared
    assert f"faultline-media-{worker}-" in str(settings.MEDIA_ROOT)
    assert settings.CACHES["default"]["LOCATION"] == settings.REDIS_URL
