"""Publish a release's Hugging Face dataset folder to the Hub.

    manage.py publish_release --project SLUG --version V --to huggingface OWNER/NAME

The folder (`huggingface/` inside the release zip: Parquet files and the dataset card) is
written to --out (default ./SLUG-vV-huggingface), then uploaded with huggingface_hub as a
dataset repository. The token is HF_TOKEN and the Hub is HF_ENDPOINT (both as
huggingface_hub reads them). Without a token nothing is uploaded: the command says where the
folder is and prints the exact `hf upload` command to run. A Hub that refuses (401, 403,
404) or fails (5xx) stops the command with an error naming what it means and the Hub's own
message (docs/hub.md; tested against tests/hub_endpoint.py).
"""

from __future__ import annotations

import os
import shlex
import zipfile
from pathlib import Path, PurePosixPath

from django.core.management.base import BaseCommand, CommandError

from annotate.access import project_releases
from annotate.models import Project
from dataset.hub import HUB_FOLDER

TARGETS = ("huggingface",)


def hub_folder_files(release) -> dict[str, bytes]:
    """The release's Hugging Face folder: relative path -> bytes, read from its zip."""
    files = {}
    with release.archive.open("rb") as handle, zipfile.ZipFile(handle) as archive:
        for member in archive.infolist():
            parts = PurePosixPath(member.filename).parts
            if len(parts) < 3 or parts[1] != HUB_FOLDER or member.is_dir():
                continue
            relative = PurePosixPath(*parts[2:])
            if ".." in relative.parts:
                raise CommandError(f"The release holds an unsafe path: {member.filename}")
            files[relative.as_posix()] = archive.read(member)
    return files


def folder_files(folder: Path) -> dict[str, bytes]:
    """What `folder` holds: relative path -> bytes."""
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in folder.rglob("*")
        if path.is_file()
    }


def extract_hub_folder(release, out: Path) -> int:
    """Write the release's Hugging Face folder into `out`; the number of files written.
    A folder that holds exactly those files already (left by a failed upload) is kept as
    it is; one that holds anything else is refused."""
    files = hub_folder_files(release)
    if out.exists() and any(out.iterdir()):
        if folder_files(out) != files:
            raise CommandError(
                f"{out} exists and holds other files than release {release.version}'s "
                "Hugging Face folder; give another --out."
            )
        return len(files)
    for relative, data in files.items():
        target = out / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return len(files)


class Command(BaseCommand):
    help = "Upload a release's Hugging Face dataset folder (Parquet and dataset card)."

    def create_parser(self, prog_name, subcommand, **kwargs):
        """--version names the release (as issue #20 spells the command), so Django's own
        --version (the framework's version) is taken off this command."""
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        for action in list(parser._actions):
            if "--version" in action.option_strings:
                parser._remove_action(action)
                for option in action.option_strings:
                    parser._option_string_actions.pop(option, None)
        parser.add_argument("--version", required=True, help="The release's version.")
        return parser

    def add_arguments(self, parser):
        parser.add_argument("--project", required=True, help="The project's slug.")
        parser.add_argument(
            "--to",
            nargs=2,
            required=True,
            metavar=("TARGET", "REPO_ID"),
            help="Where to: huggingface OWNER/NAME (a dataset repository on the Hub).",
        )
        parser.add_argument("--out", help="Folder to write the dataset folder into.")
        parser.add_argument(
            "--private", action="store_true", help="Create the repository as private."
        )

    def handle(self, *args, project, version, to, out, private, **options):
        from huggingface_hub.errors import HFValidationError
        from huggingface_hub.utils import validate_repo_id

        target, repo_id = to
        if target not in TARGETS:
            raise CommandError(f"Unknown target '{target}'; publish_release knows: huggingface.")
        try:
            validate_repo_id(repo_id)
        except HFValidationError:
            raise CommandError(
                f"'{repo_id}' is not a Hub repository id; write it as OWNER/NAME."
            ) from None
        if "/" not in repo_id:
            raise CommandError(f"'{repo_id}' has no owner; write it as OWNER/NAME.")
        found = Project.objects.filter(slug=project).first()
        if found is None:
            raise CommandError(f"No project '{project}'.")
        release = project_releases(found).filter(version=version).first()
        if release is None:
            versions = ", ".join(project_releases(found).values_list("version", flat=True))
            raise CommandError(
                f"Project '{project}' has no release '{version}'"
                + (f"; its releases: {versions}." if versions else "; it has no releases yet.")
            )
        folder = Path(out or f"{found.slug}-v{release.version}-huggingface").resolve()
        folder.mkdir(parents=True, exist_ok=True)
        count = extract_hub_folder(release, folder)
        if count == 0:
            raise CommandError(
                f"Release {release.version} was made before releases held a Hugging Face "
                "folder; create a new release."
            )
        self.stdout.write(f"Wrote the dataset folder ({count} files) to {folder}")
        token = os.environ.get("HF_TOKEN", "")
        command = f"hf upload {repo_id} {shlex.quote(str(folder))} . --repo-type dataset" + (
            " --private" if private else ""
        )
        if token and any(not ch.isprintable() or ch.isspace() for ch in token):
            # An HTTP library refuses such a header and quotes it whole in its error.
            raise CommandError(
                "HF_TOKEN holds a space, line break or other control character; a Hub token "
                "is one word: set it without them. Nothing was uploaded."
            )
        if not token:
            self.stdout.write(
                "HF_TOKEN is not set, so nothing was uploaded. To upload it yourself:\n"
                f"  HF_TOKEN=<a write token> {command}"
            )
            return
        self._upload(folder, repo_id, token, private, release, found)

    def _upload(self, folder, repo_id, token, private, release, project):
        from huggingface_hub import HfApi
        from huggingface_hub.errors import HfHubHTTPError

        endpoint = os.environ.get("HF_ENDPOINT") or None
        where = endpoint or "the Hugging Face Hub"
        api = HfApi(endpoint=endpoint, token=token)
        try:
            api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
            info = api.upload_folder(
                folder_path=str(folder),
                repo_id=repo_id,
                repo_type="dataset",
                commit_message=f"{project.name}: release {release.version}",
            )
        except HfHubHTTPError as error:  # the Hub answered, and refused
            raise CommandError(
                without_token(
                    f"Uploading to {where} failed: {hub_refusal(error, repo_id)} "
                    f"The folder is still at {folder}; the Hub's commit is all or nothing.",
                    token,
                )
            ) from None
        except Exception as error:  # the network, or a reply huggingface_hub cannot read
            raise CommandError(
                without_token(
                    f"Uploading to {where} failed: {type(error).__name__}: {error}", token
                )
            ) from None
        self.stdout.write(f"Uploaded release {release.version} to {repo_id}: {info}")


def without_token(message: str, token: str) -> str:
    """`message` with the token (as a library may quote it in an error) masked."""
    for secret in {token, token.strip()} - {""}:
        message = message.replace(secret, "<HF_TOKEN>")
    return message


def hub_refusal(error, repo_id: str) -> str:
    """What a Hub's HTTP error means for this upload, with the Hub's own message."""
    response = getattr(error, "response", None)
    status = getattr(response, "status_code", None)
    said = getattr(error, "server_message", None) or str(error).splitlines()[0]
    reason = f"{status} {getattr(response, 'reason_phrase', '')}".strip()
    if status == 401:
        meaning = "the Hub refused the token ({reason}): HF_TOKEN is not a valid token"
    elif status == 403:
        meaning = "the token may not write to {repo_id} ({reason}): give it write access"
    elif status == 404:
        meaning = "{repo_id} was not found ({reason}): check the owner and HF_ENDPOINT"
    elif status is not None and status >= 500:
        meaning = "the Hub had a server error ({reason}); try again later"
    else:
        meaning = "the Hub answered {reason}"
    return meaning.format(reason=reason, repo_id=repo_id) + f". The Hub said: {said}."
