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


def _gunicorn_args(words: list[str]) -> list[str]:
    return words[words.index("gunicorn") + 1 :]


def _dockerfile_cmd() -> list[str]:
    import json

    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    line = next(line for line in text.splitlines() if line.startswith("CMD "))
    return json.loads(line[len("CMD ") :])


def test_gunicorn_timeouts_are_set_alike_and_gunicorn_accepts_them():
    """The default 30 s killed long synchronous requests (issue #12); web (compose) and the
    image's CMD give gunicorn the same, longer timeout, and gunicorn parses the flags."""
    compose = _gunicorn_args(_words(_compose()["services"]["web"]["command"]))
    image = _gunicorn_args(_dockerfile_cmd())
    assert compose == image
    timeout = int(image[image.index("--timeout") + 1])
    assert 60 <= timeout <= 300
    assert int(image[image.index("--graceful-timeout") + 1]) > 0
    env = {**os.environ, "DEBUG": "0", "SECRET_KEY": "x" * 60, "ALLOWED_HOSTS": "example.org"}
    check = subprocess.run(
        [sys.executable, "-m", "gunicorn", "--check-config", *image],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert check.returncode == 0, check.stdout + check.stderr


def test_uploads_for_import_jobs_live_on_the_volume_web_and_worker_share():
    services = _compose()["services"]
    assert services["web"]["volumes"] == services["worker"]["volumes"]
    mount = services["web"]["volumes"][0].split(":")[1]
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert f"MEDIA_ROOT={mount}" in dockerfile
    env = {**os.environ, "MEDIA_ROOT": mount, "IMPORT_UPLOAD_DIR": ""}
    env.pop("IMPORT_UPLOAD_DIR")
    shown = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings as s; import django; "
         "django.setup(); print(s.IMPORT_UPLOAD_DIR)"],
        cwd=ROOT, env={**env, "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert shown.stdout.strip().endswith(f"{mount}/imports"), shown.stderr
