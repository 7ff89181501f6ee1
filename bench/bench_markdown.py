"""The Markdown renderer's cost on hostile text at GitHub's 65,536-character body limit
(tests/annotate/test_markdown.py's pathological inputs, plus a long ordinary issue):
seconds per render without the step budget (markdown-it-py and nh3 as they were) and
with it (annotate.markdown.render_markdown, first render and cached). Django-free.

Goals: worst first render < 0.25 s; a cached render < 1 ms."""

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import nh3  # noqa: E402
from markdown_it import MarkdownIt  # noqa: E402

from annotate import markdown  # noqa: E402
from tests.annotate.test_markdown import PATHOLOGICAL, ordinary_issue  # noqa: E402

unbounded = MarkdownIt("commonmark", {"html": True, "breaks": True}).enable(
    ["table", "strikethrough"]
)


def seconds(render, text: str) -> float:
    started = time.perf_counter()
    render(text)
    return time.perf_counter() - started


def main():
    cases = {**PATHOLOGICAL, "ordinary long issue": ordinary_issue()}
    print(f"{'input':22} {'chars':>7} {'unbounded':>10} {'bounded':>9} {'cached':>9}  path")
    worst_before = worst_after = worst_cached = 0.0
    for name, text in cases.items():
        before = seconds(lambda t: nh3.clean(unbounded.render(t)), text)
        markdown._cache.clear()
        after = seconds(markdown.render_markdown, text)
        cached = seconds(markdown.render_markdown, text)
        path = "plain" if markdown.render_steps(text) > markdown.STEP_BUDGET else "markdown"
        print(
            f"{name:22} {len(text):7,} {before:9.3f}s {after:8.3f}s {cached * 1000:7.3f}ms  {path}"
        )
        worst_before, worst_after = max(worst_before, before), max(worst_after, after)
        worst_cached = max(worst_cached, cached)
    ok = "ok" if worst_after < 0.25 else "MISSED"
    print(f"worst first render {worst_after:.3f} s (unbounded {worst_before:.2f} s),", end=" ")
    print(f"goal < 0.25 s {ok}")
    ok = "ok" if worst_cached < 0.001 else "MISSED"
    print(f"worst cached render {worst_cached * 1000:.3f} ms, goal < 1 ms {ok}")


if __name__ == "__main__":
    main()
