"""What can be checked of the production setup without a Docker engine."""

import os
import shlex
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_file_parses_and_every_service_has_an_image_or_build_and_a_command():
    services = _compose()["services"]
    assert set(services) == {"postgres", "redis", "web", "worker", "beat"}
    for name, service in services.items():
        assert service.get("image") or service.get("build"), name
        assert service.get("command"), name
    assert "healthcheck" in services["postgres"]
    assert any("pgdata" in v for v in services["postgres"]["volumes"])
    assert (ROOT / "Dockerfile").exists()


def test_app_services_share_the_environment_contract():
    services = _compose()["services"]
    for name in ("web", "worker", "beat"):
        env = services[name]["environment"]
        for key in (
            "DATABASE_URL",
            "REDIS_URL",
            "SECRET_KEY",
            "DEBUG",
            "ALLOWED_HOSTS",
            "GITHUB_TOKEN",
            "GITHUB_API_URL",
        ):
            assert key in env, (name, key)
        assert services[name]["depends_on"]["postgres"]["condition"] == "service_healthy"


def _words(command):
    text = " ".join(command) if isinstance(command, list) else command
    return shlex.split(text.replace("&&", " ").replace('"', " "))


def test_the_commands_the_services_run_exist():
    services = _compose()["services"]
    words = _words(services["web"]["command"]) + _words(services["worker"]["command"])
    words += _words(services["beat"]["command"])
    assert "config.wsgi" in words and (ROOT / "config" / "wsgi.py").exists()
    assert "config" in words and (ROOT / "config" / "celery.py").exists()
    assert "manage.py" in words and (ROOT / "manage.py").exists()
    # gunicorn and celery are installed from the lock, and the app loads in each.
    lock = (ROOT / "requirements.lock").read_text()
    assert "gunicorn==" in lock and "celery==" in lock
    env = {**os.environ, "DEBUG": "0", "SECRET_KEY": "x" * 60, "ALLOWED_HOSTS": "example.org"}
    check = subprocess.run(
        [sys.executable, "-c", "import config.wsgi, config.celery; print(config.celery.app.main)"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert check.returncode == 0, check.stderr
    assert check.stdout.strip() == "faultline"


def test_check_deploy_is_clean_with_production_settings():
    # The browser tests' async flag is a test-only setting; a deployment never has it.
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env |= {
        "DEBUG": "0",
        "SECRET_KEY": "k7#xQz!9pL-w2M$" * 4,
        "ALLOWED_HOSTS": "faultline.example.org",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    env["DEBUG"] = "0"
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr
