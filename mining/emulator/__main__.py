"""python -m mining.emulator --port 8765 --issues 500 --comments 2000: serve generated
repositories (the demo's unless --repository names others) until interrupted."""

from __future__ import annotations

import argparse
import time

from ..synthetic import DEMO_REPOSITORIES
from .server import GitHubEmulator


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="Serve generated GitHub repositories.")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--issues", type=int, default=200, help="issues and PRs per repository")
    parser.add_argument("--comments", type=int, default=None, help="comments per repository")
    parser.add_argument("--token", default=None, help="require this token (default: any)")
    parser.add_argument("--quota", type=int, default=5000, help="requests per rate-limit hour")
    parser.add_argument(
        "--repository",
        action="append",
        metavar="OWNER/NAME",
        help="serve this repository (repeatable; default: the demo's repositories)",
    )
    args = parser.parse_args(argv)
    emulator = GitHubEmulator(token=args.token, port=args.port, quota=args.quota)
    names = [r.split("/", 1) for r in args.repository or []]
    for owner, name in names or [(o, n) for o, n, _group, _meta in DEMO_REPOSITORIES]:
        emulator.add_repository(owner, name, issues=args.issues, comments=args.comments)
    emulator.start()
    print(
        f"GitHub API emulator on {emulator.url} serving {len(emulator.repos)} repositories",
        flush=True,
    )
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        emulator.stop()


if __name__ == "__main__":
    main()
