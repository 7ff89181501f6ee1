from django import template
from django.utils.safestring import mark_safe

from annotate.markdown import render_markdown

register = template.Library()


@register.filter
def markdown(text, project=None):
    """Render untrusted Markdown (GitHub text, notes) as sanitized HTML; external images
    load only where `project` allows them (``{{ body|markdown:project }}``)."""
    external = bool(getattr(project, "allow_external_images", False))
    html = render_markdown(text, external_images=external)
    return mark_safe(html)  # noqa: S308 - sanitized by nh3 in render_markdown


@register.filter
def duration(seconds):
    """Seconds as people read them ("3 min 20 s"); "–" for none."""
    from annotate.labeling.pace import duration as spelled

    return spelled(seconds)
