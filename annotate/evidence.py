"""An item's issue as its parts (title, body, comments, and the titles of its fix links,
issue #20), for evidence spans (issue #15):
the text a span is checked against, and the parts shown with spans highlighted.

The parts are rendered exactly as the pages show them (the snapshot annotators saw, the
project's image rule, the project's right to read the text); annotate.spans reads their
plain text. Which labels' spans a page may show is the caller's rule: the labeling page
passes the caller's own labels only, the lead's pages every annotation's.
"""

from django.utils.html import escape
from django.utils.safestring import mark_safe

from annotate.access import side_letter
from annotate.markdown import render_markdown
from annotate.spans import Mark, Span, SpanError, check_span, mark_spans, part_name, plain_text
from annotate.spans import text_hash as _hash
from mining.access import TextAccess, project_group, readable_fix_links


class IssueText:
    """The parts of `item`'s issue as `project` shows them: {part: sanitized HTML}."""

    def __init__(self, project, item):
        access = TextAccess(project)
        access.hide_item(item)
        issue = item.issue
        external = bool(project.allow_external_images)
        self.issue = issue
        self.comments = list(access.comments(issue))
        self.html = {
            "title": str(escape(item.snapshot_title or issue.title)),
            "body": render_markdown(item.snapshot_body or issue.body, external_images=external),
        }
        for comment in self.comments:
            self.html[f"comment-{comment.pk}"] = render_markdown(
                comment.body, external_images=external
            )
        # The fixes beside the issue (annotate/_fixes.html): each title, or its ref when
        # GitHub gave none, escaped as the page shows it. None while the text is hidden,
        # nor a link of another repository the project may not read (a private one).
        self.fixes = []
        if not getattr(issue, "text_hidden", False):
            self.fixes = list(readable_fix_links(project, [issue.pk]))
        for fix in self.fixes:
            self.html[f"fix-{fix.pk}"] = str(escape(fix.title or fix.ref))
        self._plain: dict[str, str] = {}

    def plain(self, part: str) -> str:
        if part not in self._plain:
            self._plain[part] = plain_text(self.html[part])
        return self._plain[part]

    def texts(self) -> dict[str, str]:
        return {part: self.plain(part) for part in self.html}

    def hash(self, part: str) -> str:
        return _hash(self.plain(part))

    def check(self, span: Span, quote: str) -> None:
        """SpanError unless `span` and `quote` fit the text (annotate.spans.check_span)."""
        check_span(span, quote, self.texts())

    def shown(self, labeled) -> dict:
        """The parts for `annotate/_issue.html`, each with its hash (the labeling page's
        script sends it back with a span) and the spans of `labeled` highlighted:
        (label, css class, who) triples. A span whose part changed since, or is gone, is
        listed under "stale" instead: its offsets no longer point at its quote."""
        marks: dict[str, list[Mark]] = {}
        stale = []
        for label, css, who in labeled:
            part = label.span_key
            if not part:
                continue
            title = f"{who}: {label.dimension.name}"
            if part not in self.html or self.hash(part) != label.span_hash:
                stale.append({"who": title, "part": part_name(part), "quote": label.evidence})
                continue
            marks.setdefault(part, []).append(Mark(label.span_start, label.span_end, css, title))

        def shown_part(part):
            marked = mark_spans(self.html[part], marks.get(part, []))
            # Sanitized by render_markdown (or escaped); mark_spans adds only <mark>.
            return {"key": part, "hash": self.hash(part), "html": mark_safe(marked)}  # noqa: S308

        return {
            "title": shown_part("title"),
            "body": shown_part("body"),
            "comments": [{"comment": c, **shown_part(f"comment-{c.pk}")} for c in self.comments],
            "fixes": [{"fix": f, **shown_part(f"fix-{f.pk}")} for f in self.fixes],
            "stale": stale,
            "marked": sum(len(m) for m in marks.values()),
        }


def check_spans(*, project, item, labels) -> None:
    """Check every label's span (objects with `span`, `evidence`, `record`, `dimension`)
    against the item's issue text; SpanError names the record and dimension."""
    spanned = [label for label in labels if label.span is not None]
    if not spanned:
        return
    text = IssueText(project, item)
    for label in spanned:
        try:
            text.check(label.span, label.evidence)
        except SpanError as error:
            raise SpanError(
                f"Record {label.record + 1}, {label.dimension.name}: {error}."
            ) from None


SIDE_STYLES = ["solid underline", "dashed underline", "dotted underline"]


def sides_spans(annotations) -> tuple[list, str]:
    """Every annotation's spans for a lead's page (or the discussion page, where a lead
    showed both annotations), each side styled apart ("evidence-a", "-b", "-c"), and the
    legend saying which style is whose. Annotations in the order of the side letters."""
    labeled, legend = [], []
    for index, annotation in enumerate(annotations):
        letter = side_letter(index)
        css = f"evidence-{letter.lower()}" if index < len(SIDE_STYLES) else "evidence-c"
        labeled += [(label, css, f"Annotator {letter}") for label in annotation.labels.all()]
        legend.append(f"Annotator {letter}: {SIDE_STYLES[min(index, len(SIDE_STYLES) - 1)]}")
    return labeled, ", ".join(legend)


def issue_with_sides(project, item, annotations) -> dict:
    """The template context of an item's issue with every annotation's spans marked (the
    conflict, history and discussion pages): the issue, its group, its parts, the legend."""
    spans, legend = sides_spans(annotations)
    return {
        "issue": item.issue,
        "issue_group": project_group(project, item.issue.repository_id),
        "parts": IssueText(project, item).shown(spans),
        "evidence_legend": legend,
    }
