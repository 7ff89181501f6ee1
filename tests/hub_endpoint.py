"""A small Hugging Face Hub of our own, for `publish_release`'s tests: real HTTP on 127.0.0.1
in a thread, answering the calls `huggingface_hub` (2.x) makes for `HfApi.create_repo` and
`HfApi.upload_folder`, as read in its source (hf_api.py, _commit_api.py, lfs.py,
_upload_pipeline.py), and storing what it receives:

    POST /api/repos/create                        create_repo: {name, organization, type,
                                                  visibility?}; 409 when it exists
    GET  /api/{type}s/{owner}/{name}              repo_info (create_repo asks it after a
                                                  401/402/403 with exist_ok)
    POST /api/validate-yaml                       the dataset card's YAML, before hashing
    POST /api/{type}s/{owner}/{name}/preupload/{revision}
                                                  each file's upload mode: "lfs" or "regular"
    POST /{type}s/{owner}/{name}.git/info/lfs/objects/batch
                                                  LFS batch (basic transfer): where to PUT
    PUT  /lfs/{oid}                               an LFS object's bytes (checked by sha256)
    POST /lfs/verify                              the LFS verify step
    POST /api/{type}s/{owner}/{name}/commit/{revision}
                                                  the commit, NDJSON: a header line, then
                                                  `file` (base64) and `lfsFile` (by oid) lines

Upload modes: `lfs_patterns` (the Hub's default .gitattributes sends *.parquet to LFS) get
"lfs", the rest "regular"; with `lfs_patterns=()` every file is "regular", sent inline in
the commit. A file in "lfs" mode reaches the Hub through Xet's storage protocol when
`hf_xet` is installed (huggingface_hub's default): this emulator does not speak it, so a
test of the LFS path runs with Xet off (HF_HUB_DISABLE_XET, read by huggingface_hub).

Tokens (Authorization: Bearer): `tokens` maps each known token to "write" or "read"; no
token or an unknown one is 401, a read token writing is 403. `fail(path_part, status)`
answers the next request whose path holds `path_part` with that status.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from dataclasses import dataclass, field
from fnmatch import fnmatch
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from tests.openai_endpoint import send_json

REPO = r"(?P<type>datasets|models|spaces)/(?P<owner>[\w.-]+)/(?P<name>[\w.-]+)"
ROUTES = [
    ("POST", re.compile(r"^/api/repos/create$"), "create"),
    ("POST", re.compile(r"^/api/validate-yaml$"), "validate_yaml"),
    ("POST", re.compile(rf"^/api/{REPO}/preupload/(?P<revision>[^/]+)$"), "preupload"),
    ("POST", re.compile(rf"^/api/{REPO}/commit/(?P<revision>[^/]+)$"), "commit"),
    ("GET", re.compile(rf"^/api/{REPO}$"), "repo_info"),
    ("POST", re.compile(rf"^/{REPO}\.git/info/lfs/objects/batch$"), "lfs_batch"),
    ("PUT", re.compile(r"^/lfs/(?P<oid>[0-9a-f]{64})$"), "lfs_put"),
    ("POST", re.compile(r"^/lfs/verify$"), "lfs_verify"),
]


class HubError(Exception):
    def __init__(self, status: int, message: str, code: str = "", **extra):
        super().__init__(message)
        self.status, self.message, self.code, self.extra = status, message, code, extra


@dataclass
class HubRepo:
    repo_type: str  # "dataset", "model", "space"
    repo_id: str
    private: bool
    files: dict[str, bytes] = field(default_factory=dict)
    commits: list[dict] = field(default_factory=list)  # the commits' headers


class Hub:
    def __init__(self, tokens: dict[str, str], lfs_patterns=("*.parquet",)):
        self.tokens = tokens
        self.lfs_patterns = tuple(lfs_patterns)
        self.repos: dict[tuple[str, str], HubRepo] = {}  # (type, repo id) -> repo
        self.lfs_objects: dict[str, bytes] = {}  # sha256 -> bytes
        self.requests: list[tuple[str, str, str]] = []  # (method, path, token)
        self.unknown: list[tuple[str, str]] = []  # requests no route answers
        self.failures: list[tuple[str, int]] = []
        self.lock = threading.Lock()
        hub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                hub.handle(self, "GET")

            def do_POST(self):
                hub.handle(self, "POST")

            def do_PUT(self):
                hub.handle(self, "PUT")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def fail(self, path_part: str, status: int) -> None:
        """Answer the next request whose path holds `path_part` with `status`."""
        with self.lock:
            self.failures.append((path_part, status))

    def repo(self, repo_id: str, repo_type: str = "dataset") -> HubRepo | None:
        return self.repos.get((repo_type, repo_id))

    # ----- HTTP -------------------------------------------------------------------------
    def handle(self, request: BaseHTTPRequestHandler, method: str) -> None:
        body = _read_body(request)
        path = urlsplit(request.path).path
        token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        with self.lock:
            self.requests.append((method, path, token))
            failure = next((f for f in self.failures if f[0] in path), None)
            if failure is not None:
                self.failures.remove(failure)
        try:
            if failure is not None:
                raise HubError(failure[1], f"The emulated Hub failed this request ({failure[1]}).")
            for route_method, pattern, action in ROUTES:
                match = pattern.match(path)
                if match and route_method == method:
                    status, payload = getattr(self, action)(match.groupdict(), body, token)
                    break
            else:
                with self.lock:
                    self.unknown.append((method, path))
                raise HubError(404, f"No route {method} {path}.")
        except HubError as error:
            headers = {"X-Error-Message": error.message}
            if error.code:
                headers["X-Error-Code"] = error.code
            reply = {"error": error.message, **error.extra}
            return send_json(request, error.status, reply, headers)
        return send_json(request, status, payload)

    # ----- who may do what ----------------------------------------------------------------
    def _auth(self, token: str, write: bool) -> None:
        scope = self.tokens.get(token)
        if scope is None:
            raise HubError(401, "Invalid credentials in Authorization header")
        if write and scope != "write":
            raise HubError(403, "You don't have the rights to write to this repository.")

    def _existing(self, groups: dict) -> HubRepo:
        repo_type = groups["type"].removesuffix("s")
        repo = self.repo(f"{groups['owner']}/{groups['name']}", repo_type)
        if repo is None:
            raise HubError(404, "Repository not found", code="RepoNotFound")
        return repo

    # ----- the routes -------------------------------------------------------------------
    def create(self, groups, body, token):
        self._auth(token, write=True)
        request = json.loads(body)
        repo_type = request.get("type") or "model"
        repo_id = f"{request['organization']}/{request['name']}"
        url = f"{self.url}/{repo_type}s/{repo_id}"
        with self.lock:
            if (repo_type, repo_id) in self.repos:  # the Hub names the repository here too
                raise HubError(409, f"You already created this {repo_type} repo", url=url)
            private = request.get("visibility") == "private"
            self.repos[(repo_type, repo_id)] = HubRepo(repo_type, repo_id, private)
        return 200, {"url": url, "name": repo_id}

    def repo_info(self, groups, body, token):
        self._auth(token, write=False)
        repo = self._existing(groups)
        return 200, {"id": repo.repo_id, "private": repo.private, "sha": _sha(repo)}

    def validate_yaml(self, groups, body, token):
        self._auth(token, write=False)
        return 200, {"errors": [], "warnings": []}

    def preupload(self, groups, body, token):
        self._auth(token, write=True)
        repo = self._existing(groups)
        files = []
        for item in json.loads(body)["files"]:
            lfs = any(fnmatch(item["path"], pattern) for pattern in self.lfs_patterns)
            mode = "lfs" if lfs else "regular"
            # No remote oid: the library then never skips a file as unchanged.
            files.append({"path": item["path"], "uploadMode": mode, "shouldIgnore": False})
        return 200, {"files": files, "commitOid": _sha(repo)}

    def lfs_batch(self, groups, body, token):
        self._auth(token, write=True)
        self._existing(groups)
        request = json.loads(body)
        if request.get("operation") != "upload" or "basic" not in request.get("transfers", []):
            raise HubError(422, "Only basic uploads are served here.")
        objects = []
        for item in request["objects"]:
            entry = {"oid": item["oid"], "size": item["size"], "authenticated": True}
            if item["oid"] not in self.lfs_objects:
                entry["actions"] = {
                    "upload": {"href": f"{self.url}/lfs/{item['oid']}"},
                    "verify": {"href": f"{self.url}/lfs/verify"},
                }
            objects.append(entry)
        return 200, {"transfer": "basic", "objects": objects}

    def lfs_put(self, groups, body, token):
        if hashlib.sha256(body).hexdigest() != groups["oid"]:
            raise HubError(400, "The object's bytes do not hash to its oid.")
        with self.lock:
            self.lfs_objects[groups["oid"]] = body
        return 200, {}

    def lfs_verify(self, groups, body, token):
        request = json.loads(body)
        stored = self.lfs_objects.get(request.get("oid"))
        if stored is None or len(stored) != request.get("size"):
            raise HubError(404, "No such object, or not of that size.")
        return 200, {}

    def commit(self, groups, body, token):
        self._auth(token, write=True)
        repo = self._existing(groups)
        lines = [json.loads(line) for line in body.decode().splitlines() if line.strip()]
        if not lines or lines[0].get("key") != "header":
            raise HubError(400, "A commit starts with its header line.")
        files = {}
        for line in lines[1:]:
            value = line["value"]
            if line["key"] == "file" and value.get("encoding") == "base64":
                files[value["path"]] = base64.b64decode(value["content"])
            elif line["key"] == "lfsFile":
                stored = self.lfs_objects.get(value["oid"])
                if stored is None or len(stored) != value.get("size", len(stored)):
                    raise HubError(422, f"LFS object of {value['path']} was never uploaded.")
                files[value["path"]] = stored
            else:
                raise HubError(400, f"Unknown commit line {line['key']!r}.")
        with self.lock:  # all or nothing
            repo.files.update(files)
            repo.commits.append(lines[0]["value"])
            oid = _sha(repo)
        url = f"{self.url}/{repo.repo_type}s/{repo.repo_id}/commit/{oid}"
        return 200, {"commitUrl": url, "commitOid": oid, "pullRequestUrl": None}


def _sha(repo: HubRepo) -> str:
    digest = hashlib.sha1()  # noqa: S324 - a commit id, as git's
    for path in sorted(repo.files):
        digest.update(path.encode() + b"\0" + repo.files[path])
    digest.update(str(len(repo.commits)).encode())
    return digest.hexdigest()


def _read_body(request: BaseHTTPRequestHandler) -> bytes:
    """The request's body, sent with a Content-Length or chunked."""
    if request.headers.get("Transfer-Encoding", "").lower() == "chunked":
        parts = []
        while True:
            size = int(request.rfile.readline().split(b";")[0].strip(), 16)
            if size == 0:
                request.rfile.readline()
                return b"".join(parts)
            parts.append(request.rfile.read(size))
            request.rfile.readline()
    return request.rfile.read(int(request.headers.get("Content-Length") or 0))
