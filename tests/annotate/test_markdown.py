import pytest

from annotate import markdown
from annotate.markdown import (
    COLLAPSE_LINES,
    MAX_SOURCE_CHARS,
    STEP_BUDGET,
    render_markdown,
    render_steps,
)


def _fill(unit: str, size: int = MAX_SOURCE_CHARS) -> str:
    return (unit * (size // len(unit) + 1))[:size]


def ordinary_issue() -> str:
    """A long issue as GitHub allows it: headings, prose, a list, a table, a long fenced
    traceback and code, 65,536 characters in all."""
    prose = " ".join(["The model runs out of CUDA memory after a few steps of fine-tuning."] * 8)
    parts = ["### Describe the bug", prose, "### Environment"]
    parts += ["- [x] **torch** `2.3.0` on [CUDA 12.1](https://developer.nvidia.com/cuda)"] * 20
    parts += ["| GPU | memory | batch |\n|---|---|---|"]
    parts[-1] += "".join(f"\n| A100 | {n} GB | {n * 2} |" for n in range(40))
    trace = "\n".join(f'  File "/site-packages/torch/nn/m{n}.py", line {n}' for n in range(400))
    parts += ["### Logs", f"```\n{trace}\n```", "### Code"]
    parts += [f"```python\nmodel = load(*args, **{{'n': {n}}})  # <{n}>\n```" for n in range(800)]
    return "\n\n".join(parts)[:MAX_SOURCE_CHARS]


def test_scripts_event_handlers_and_javascript_links_are_inert():
    html = render_markdown(
        "<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n[a](javascript:alert(1))"
        '\n\n<a href="JaVaScRiPt:alert(1)">b</a>\n\n<iframe src="https://evil"></iframe>'
    )
    lowered = html.lower()
    assert "<script" not in lowered
    assert "onerror" not in lowered
    assert 'href="javascript' not in lowered
    assert '<a rel="nofollow noopener noreferrer">b</a>' in lowered  # the link lost its href
    assert "<iframe" not in lowered


def test_code_blocks_are_kept_and_long_ones_collapse():
    short = render_markdown("```python\nprint('hi')\n```")
    assert '<code class="language-python">' in short
    assert "<details" not in short
    long_trace = "```\n" + "\n".join(f"frame {i}" for i in range(COLLAPSE_LINES + 5)) + "\n```"
    html = render_markdown(long_trace)
    assert '<details class="long-code">' in html
    assert "frame 29" in html


def test_links_get_rel_noopener_and_markdown_renders():
    html = render_markdown("# Title\n\n**bold** [site](https://example.org)")
    assert "<h1>Title</h1>" in html
    assert "<strong>bold</strong>" in html
    assert 'rel="nofollow noopener noreferrer"' in html


def test_empty_text_renders_nothing():
    assert render_markdown("") == ""
    assert render_markdown(None) == ""


# Each took 1-3 s at GitHub's limit before the budget (a wide table 2.4 s, image openers
# 2 s, brackets 1.3 s); raw <div>s nested 13,000 deep cost nh3 0.8 s.
PATHOLOGICAL = {
    "brackets": _fill("["),
    "image openers": _fill("![["),
    "link openers": _fill("[a]("),
    "emphasis delimiters": _fill("*_"),
    "strikethrough runs": _fill("~~a"),
    "headings": _fill("# a\n"),
    "lazy quotes": _fill("> a\n"),
    "nested raw html": _fill("<div>"),
    "wide table": "|" + "a|" * 8000 + "\n|" + "-|" * 8000 + "\n" + "x\n" * 8000,
    "long table": "|a|b|\n|-|-|\n" + "|x|y|\n" * 10_000,
}


@pytest.mark.parametrize("text", PATHOLOGICAL.values(), ids=PATHOLOGICAL.keys())
def test_pathological_markdown_is_shown_as_escaped_plain_text_within_the_budget(text):
    before = markdown.stats["plain"]

    html = render_markdown(text + "<script>alert(1)</script>")

    # The parser gave up at the budget: the work done is bounded whatever the input.
    assert render_steps(text) == STEP_BUDGET + 1
    assert markdown.stats["plain"] == before + 1
    assert html.startswith('<pre class="plain-text">')
    assert "too much markup to render" in html
    assert "<script" not in html and "<div>" not in html and "<td>" not in html


def test_a_longordinary_issue_renders_as_markdown_well_within_the_budget():
    text = ordinary_issue()
    assert len(text) == MAX_SOURCE_CHARS

    html = render_markdown(text)

    assert render_steps(text) < STEP_BUDGET // 4
    assert "<h3>Describe the bug</h3>" in html
    assert "<table>" in html and "<td>A100</td>" in html
    assert '<details class="long-code">' in html
    assert "plain-text" not in html


def test_a_wide_table_is_charged_by_its_cells_before_it_is_built():
    columns, rows = 400, 120  # 48,000 cells from 9,000 characters
    table = "|" + "a|" * columns + "\n|" + "-|" * columns + "\n" + "|x|\n" * rows
    small = "|" + "a|" * 10 + "\n|" + "-|" * 10 + "\n" + "|x|\n" * rows

    assert render_steps(table) == STEP_BUDGET + 1
    assert 10 * rows < render_steps(small) < STEP_BUDGET // 4


def test_raw_html_tags_are_charged_so_that_nesting_stays_cheap_to_sanitize():
    assert render_steps("<div>" * 2_500) == STEP_BUDGET + 1
    assert "<div>" in render_markdown("<div>" * 50)


def test_the_same_text_is_rendered_once_then_served_from_the_cache():
    text = ordinary_issue() + "\n\nunique to the cache test"
    parsed, cached = markdown.stats["parsed"], markdown.stats["cached"]

    first, second = render_markdown(text), render_markdown(text)

    assert first == second
    assert markdown.stats["parsed"] == parsed + 1
    assert markdown.stats["cached"] == cached + 1
