"""`make run`'s embedded defaults, end to end: SQLite and kombu's filesystem broker, the
demo seeded twice, and a mining job enqueued by the app and run by a real worker process
against the GitHub emulator (mining never runs inside a web request)."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _manage(env, *args, code=None):
    command = [sys.executable, "manage.py", *args] + (["-c", code] if code else [])
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_laptop_defaults_seed_the_demo_and_mine_in_a_worker(tmp_path):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    env["FAULTLINE_RUN_DIR"] = str(tmp_path)
    for folder in ("queue", "processed", "control"):
        (tmp_path / "broker" / folder).mkdir(parents=True)
    _manage(env, "migrate", "--noinput", "-v", "0")
    first = _manage(env, "seed_demo", "--per-repository", "3")
    second = _manage(env, "seed_demo", "--per-repository", "3")
    assert "27 items" in first  # 9 repositories x 3 issues, none a pull request
    assert "0 new annotations" in second
    assert (tmp_path / "faultline.sqlite3").exists()

    port = _free_port()
    emulator = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mining.emulator",
            "--port",
            str(port),
            "--issues",
            "30",
            "--comments",
            "40",
            "--repository",
            "acme/widgets",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    worker = subprocess.Popen(
        [str(BIN / "celery"), "-A", "config", "worker", "--pool=solo", "--loglevel=warning"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert "emulator" in emulator.stdout.readline()
        start = (
            "from annotate.models import Project\n"
            "from mining import jobs\n"
            "p = Project.objects.get(slug='llm-deployment-failures')\n"
            f"r = jobs.add_repository(project=p, full_name='acme/widgets', group='Acme', "
            f"source='127.0.0.1:{port}')\n"
            f"job = jobs.start_mining_job(project=p, repositories=[r], "
            f"api_url='http://127.0.0.1:{port}')\n"
            "print('JOB', job.pk)\n"
        )
        job_id = _manage(env, "shell", code=start).split("JOB")[1].split()[0]
        status = ""
        for _ in range(120):
            status = (
                _manage(
                    env,
                    "shell",
                    code=f"from mining.models import MiningJob; "
                    f"j = MiningJob.objects.get(pk={job_id}); print('STATUS', j.status, j.issues)",
                )
                .split("STATUS")[1]
                .split()
            )
            if status[0] in {"done", "failed"}:
                break
            time.sleep(1)
        assert status[0] == "done", status
        assert int(status[1]) == 30
    finally:
        worker.terminate()
        emulator.terminate()
        worker.wait(timeout=30)
        emulator.wait(timeout=30)
