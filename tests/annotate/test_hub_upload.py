"""`publish_release --to huggingface` against a Hub of our own over real HTTP
(tests/hub_endpoint.py), pointed at through the environment as the command documents
(HF_ENDPOINT, HF_TOKEN): every file of the release's Hugging Face folder reaches the repo
id given, as a dataset repository, byte for byte, with the token; the Hub's refusals and
failures are clear errors that name the problem and exit non-zero."""

import shlex
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command, execute_from_command_line
from huggingface_hub import constants

from dataset.management.commands.publish_release import folder_files
from tests.hub_endpoint import Hub

from .test_release_hub import media_root, released_archive  # noqa: F401 - media_root: autouse

WRITE, READ = "hf_write_token", "hf_read_token"
REPO_ID = "lab/llm-failures"


@pytest.fixture
def archive(project, cast, api_for):
    return released_archive(project, cast, api_for)


@pytest.fixture
def hub():
    server = Hub(tokens={WRITE: "write", READ: "read"})
    yield server
    server.close()


@pytest.fixture
def xet_off(monkeypatch):
    """huggingface_hub reads HF_HUB_DISABLE_XET once, when imported (constants): set both."""
    monkeypatch.setenv("HF_HUB_DISABLE_XET", "1")
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)


def publish(project, out: Path, repo_id: str = REPO_ID) -> str:
    stdout = StringIO()
    call_command(
        "publish_release", "--project", project.slug, "--version", "1",
        "--to", "huggingface", repo_id, "--out", str(out), stdout=stdout,
    )  # fmt: skip
    return stdout.getvalue()


def point_at(monkeypatch, hub, token=WRITE):
    monkeypatch.setenv("HF_ENDPOINT", hub.url)
    monkeypatch.setenv("HF_TOKEN", token)


def test_the_upload_sends_every_file_byte_for_byte_through_lfs(
    archive, project, hub, tmp_path, monkeypatch, xet_off
):
    point_at(monkeypatch, hub)
    out = publish(project, tmp_path / "folder")

    sent = folder_files(tmp_path / "folder")
    assert {"README.md", "CITATION.cff", "data/final-00000-of-00001.parquet"} <= set(sent)
    repo = hub.repo(REPO_ID, "dataset")
    assert repo is not None and hub.repo(REPO_ID, "model") is None  # a dataset repository
    assert repo.files == sent  # every file, identical bytes, nothing else
    assert len(repo.commits) == 1 and repo.commits[0]["summary"] == "LLM failures: release 1"
    # The Parquet files went through the LFS batch API and a PUT of their own, the card inline.
    parquet = {sent[name] for name in sent if name.endswith(".parquet")}
    assert set(hub.lfs_objects.values()) == parquet
    paths = [path for _, path, _ in hub.requests]
    assert "/api/repos/create" in paths
    assert f"/datasets/{REPO_ID}.git/info/lfs/objects/batch" in paths
    assert f"/api/datasets/{REPO_ID}/commit/main" in paths
    # Every call to the Hub carried the token; none missed a route.
    assert hub.unknown == []
    assert {token for _, path, token in hub.requests if not path.startswith("/lfs/")} == {WRITE}
    assert f"Uploaded release 1 to {REPO_ID}" in out


def test_the_default_pipeline_sends_every_file_inline_when_the_hub_asks(
    archive, project, tmp_path, monkeypatch
):
    """huggingface_hub's default upload (hf_xet installed: the streamed pipeline), with a
    Hub that keeps every file a regular git blob: the commit carries them all."""
    hub = Hub(tokens={WRITE: "write"}, lfs_patterns=())
    try:
        point_at(monkeypatch, hub)
        publish(project, tmp_path / "folder")
        assert hub.repo(REPO_ID, "dataset").files == folder_files(tmp_path / "folder")
        assert hub.lfs_objects == {} and hub.unknown == []
    finally:
        hub.close()


def test_a_second_publish_to_the_same_repository_commits_again(
    archive, project, hub, tmp_path, monkeypatch, xet_off
):
    point_at(monkeypatch, hub)
    publish(project, tmp_path / "first")
    publish(project, tmp_path / "second")  # the Hub answers 409 to create: exist_ok

    assert len(hub.repo(REPO_ID, "dataset").commits) == 2
    assert hub.repo(REPO_ID, "dataset").files == folder_files(tmp_path / "second")


@pytest.mark.parametrize(
    ("token", "failure", "message"),
    [
        ("hf_not_a_token", None, r"refused the token \(401 Unauthorized\): HF_TOKEN is not"),
        (READ, None, rf"the token may not write to {REPO_ID} \(403 Forbidden\)"),
        (WRITE, ("/api/repos/create", 404), rf"{REPO_ID} was not found \(404 Not Found\)"),
        (WRITE, ("/preupload/", 404), rf"{REPO_ID} was not found \(404 Not Found\)"),
        (WRITE, ("/api/repos/create", 503), r"server error \(503 Service Unavailable\)"),
        (WRITE, ("/api/validate-yaml", 500), r"server error \(500 Internal Server Error\)"),
        # 507 is a 5xx huggingface_hub does not retry (500, 502, 503 and 504 it retries
        # with waits of up to 8 s); the commit is the last call, after the LFS uploads.
        (WRITE, ("/commit/", 507), r"server error \(507 Insufficient Storage\)"),
    ],
    ids=["401", "403", "404-create", "404-preupload", "503-create", "500-card", "507-commit"],
)
def test_a_hub_error_is_clear_and_names_the_problem(
    archive, project, hub, tmp_path, monkeypatch, xet_off, token, failure, message
):
    point_at(monkeypatch, hub, token)
    if failure is not None:
        hub.fail(*failure)

    with pytest.raises(CommandError, match=message) as raised:
        publish(project, tmp_path / "folder")

    assert f"Uploading to {hub.url} failed" in str(raised.value)
    assert "The Hub said: " in str(raised.value)
    repo = hub.repo(REPO_ID, "dataset")
    assert repo is None or (repo.files == {} and repo.commits == [])  # nothing committed


def test_a_hub_error_exits_the_command_non_zero(
    archive, project, hub, tmp_path, monkeypatch, capsys, xet_off
):
    """As a shell runs it (manage.py's entry point): the message on stderr, status 1."""
    point_at(monkeypatch, hub, READ)
    argv = ["manage.py", "publish_release", "--project", project.slug, "--version", "1"]
    argv += ["--to", "huggingface", REPO_ID, "--out", str(tmp_path / "folder")]

    with pytest.raises(SystemExit) as exited:
        execute_from_command_line(argv)

    assert exited.value.code == 1
    assert f"CommandError: Uploading to {hub.url} failed" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["folder", "my release"], ids=["plain", "space"])
def test_without_a_token_nothing_reaches_the_hub_and_the_command_is_printed(
    archive, project, hub, tmp_path, monkeypatch, name
):
    """The command is printed to run as it is (a folder with a space quoted for the shell),
    once the placeholder is replaced with a token."""
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", hub.url)
    out = publish(project, tmp_path / name)

    folder = (tmp_path / name).resolve()
    assert hub.requests == []
    assert "HF_TOKEN is not set, so nothing was uploaded. To upload it yourself:\n" in out
    line = next(line for line in out.splitlines() if "hf upload" in line)
    command = line.split("  HF_TOKEN=<a write token> ", 1)[1]  # the placeholder to replace
    assert shlex.split(command) == [
        "hf", "upload", REPO_ID, str(folder), ".", "--repo-type", "dataset",
    ]  # fmt: skip


def test_a_token_the_http_library_refuses_is_never_printed(
    archive, project, hub, tmp_path, monkeypatch, capsys, xet_off
):
    """A token pasted with its line break (HF_TOKEN=$(cat token-file) keeps none, but an
    env file does): the HTTP library refuses the header and its error quotes the header's
    value; the command's message must not."""
    secret = "hf_secret_0123456789abcdef"
    point_at(monkeypatch, hub, secret + "\n")

    with pytest.raises(CommandError) as raised:
        publish(project, tmp_path / "folder")

    assert secret not in str(raised.value)
    assert "HF_TOKEN" in str(raised.value)
    assert secret not in "".join(capsys.readouterr())


def test_after_a_hub_failure_the_same_command_runs_again(
    archive, project, hub, tmp_path, monkeypatch, xet_off
):
    """'Try again later' means the same command: the folder it left (the release's own
    files, unchanged) is uploaded again; a folder holding anything else is still refused."""
    point_at(monkeypatch, hub)
    hub.fail("/commit/", 507)
    with pytest.raises(CommandError, match="try again later"):
        publish(project, tmp_path / "folder")

    publish(project, tmp_path / "folder")

    assert hub.repo(REPO_ID, "dataset").files == folder_files(tmp_path / "folder")
    (tmp_path / "folder" / "README.md").write_text("edited")
    with pytest.raises(CommandError, match="exists and holds other files"):
        publish(project, tmp_path / "folder")
