"""What the server and the management commands write to their logs (issue #15, defect
10): an expected refusal (403) or miss (404) is one line, not a traceback, and commands
print their own output without django-axes' start-up banner."""

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "user, path, status, line",
    [
        ("annotator_a", "/projects/llm-failures/conflicts/", 403, "Forbidden"),
        ("annotator_a", "/projects/no-such-project/", 404, "Not Found"),
        (None, "/no-such-page/", 404, "Not Found"),
    ],
)
def test_an_expected_client_error_logs_one_line(
    client_for, cast, project, caplog, user, path, status, line
):
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = client_for(cast[user] if user else None).get(path)
    assert response.status_code == status
    records = [r for r in caplog.records if r.name == "django.request"]
    assert [(r.levelname, r.getMessage()) for r in records] == [
        ("WARNING", f"{line}: {path}" if status == 404 else f"{line} (Permission denied): {path}")
    ]
    assert records[0].exc_info is None and records[0].exc_text is None
    assert "Traceback" not in caplog.text


def test_a_server_error_keeps_its_traceback(caplog):
    logger = logging.getLogger("django.request")
    try:
        raise RuntimeError("a real bug")
    except RuntimeError:
        with caplog.at_level(logging.ERROR, logger="django.request"):
            logger.error("Internal Server Error: /x/", exc_info=True, extra={"status_code": 500})
    assert "Traceback" in caplog.text and "a real bug" in caplog.text


def test_management_commands_print_no_axes_banner():
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    command = [sys.executable, "manage.py", "check"]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout
    assert "AXES" not in result.stdout + result.stderr
