from annotate.markdown import COLLAPSE_LINES, render_markdown


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
