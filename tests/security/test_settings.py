"""Production settings, login throttling, and secrets that never leave the server."""

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from mining import jobs as mining_jobs
from mining.emulator import GitHubEmulator
from mining.models import MiningJob
from tests.mining.helpers import crawl

from .test_blindness import _get_urls, _read

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "pw-for-tests-123"
TOKEN = "ghp_zq7" + "T0KEN" * 7
SECRET_KEY = "zq7-secret-key-" + "Sx9!" * 12

PROBE = """
import json
import django
from django.conf import settings
from django.core.management import call_command
django.setup()
call_command("check", deploy=True, fail_level="WARNING")
print(json.dumps({name: getattr(settings, name) for name in (
    "DEBUG", "SESSION_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY", "CSRF_COOKIE_SECURE",
    "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "AXES_FAILURE_LIMIT",
)} | {"backends": settings.AUTHENTICATION_BACKENDS, "middleware": settings.MIDDLEWARE}))
"""


def test_production_settings_secure_the_cookies_and_pass_check_deploy():
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env |= {
        "DEBUG": "0",
        "SECRET_KEY": SECRET_KEY,
        "ALLOWED_HOSTS": "faultline.example.org",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values["DEBUG"] is False
    assert values["SESSION_COOKIE_SECURE"] and values["SESSION_COOKIE_HTTPONLY"]
    assert values["CSRF_COOKIE_SECURE"] and values["SECURE_SSL_REDIRECT"]
    assert values["SECURE_HSTS_SECONDS"] >= 60 * 60 * 24 * 365
    assert values["backends"][0] == "axes.backends.AxesStandaloneBackend"
    assert values["middleware"][-1] == "axes.middleware.AxesMiddleware"
    assert SECRET_KEY not in result.stdout + result.stderr


def test_the_session_cookie_a_login_sets_is_httponly(cast):
    client = Client()
    client.post(reverse("login"), {"username": "owner", "password": PASSWORD})
    assert client.cookies["sessionid"]["httponly"]


def _attempt(client, username, password, address="10.0.0.1"):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address
    )


def test_the_sixth_attempt_after_five_wrong_passwords_is_refused_even_when_right(cast):
    client = Client()
    for attempt in range(4):
        response = _attempt(client, "annotator_a", f"wrong-{attempt}")
        assert response.status_code == 200
        assert "didn't match" in response.content.decode()
    fifth = _attempt(client, "annotator_a", "wrong-5")
    assert fifth.status_code == 429
    sixth = _attempt(client, "annotator_a", PASSWORD)
    assert sixth.status_code == 429
    text = sixth.content.decode()
    assert "Too many failed log-ins" in text and "even the right password is refused" in text
    assert "0:15:00" in text
    assert "_auth_user_id" not in client.session
    # Keyed by username and address: other users, and this user elsewhere, are unaffected.
    assert _attempt(Client(), "annotator_b", PASSWORD).status_code == 302
    assert _attempt(Client(), "annotator_a", PASSWORD, address="10.0.0.2").status_code == 302


def test_a_successful_login_resets_the_count(cast):
    client = Client()
    for attempt in range(4):
        _attempt(client, "lead", f"wrong-{attempt}")
    assert _attempt(client, "lead", PASSWORD).status_code == 302
    for attempt in range(4):
        assert _attempt(Client(), "lead", f"again-{attempt}").status_code == 200
    assert _attempt(Client(), "lead", PASSWORD).status_code == 302


@pytest.fixture
def emulator():
    emu = GitHubEmulator(token=TOKEN).start()
    emu.add_repository("QwenLM", "Qwen2.5", issues=30, comments=20)
    yield emu
    emu.stop()


def test_the_token_and_secret_key_appear_in_no_page_reply_export_or_log(
    world, settings, caplog, emulator
):
    settings.GITHUB_TOKEN = TOKEN
    settings.GITHUB_API_URL = emulator.url
    settings.SECRET_KEY = SECRET_KEY
    caplog.set_level(logging.DEBUG)
    repository = mining_jobs.add_repository(
        project=world.project, full_name="QwenLM/Qwen2.5", group="Qwen"
    )
    job = crawl(world.project, [repository], emulator)
    assert job.status == MiningJob.Status.DONE
    # A rejected token: the job's error must name the problem, not the token.
    settings.GITHUB_TOKEN = TOKEN[:-4] + "xxxx"
    failed = crawl(world.project, [repository], emulator)
    assert failed.status == MiningJob.Status.FAILED
    job_text = json.dumps([failed.errors, failed.log, list(failed.tasks.values("error"))])
    assert "token" in job_text.lower()
    world.job = failed
    urls = _get_urls(world, list(world.items))
    bodies = []
    for username in ("owner", "lead", "annotator_a"):
        client = Client(raise_request_exception=False)
        client.force_login(world.users[username])
        bodies += [(username, url, _read(client, url)[1]) for url in urls]
    assert len(bodies) > 200
    secrets = [TOKEN, TOKEN[:-4], SECRET_KEY]
    leaks = [(u, url, s) for u, url, body in bodies for s in secrets if s.encode() in body]
    assert not leaks
    logged = caplog.text + json.dumps([r.args for r in caplog.records], default=str)
    assert not [s for s in secrets if s in logged]
    assert not [s for s in secrets if s in job_text]
