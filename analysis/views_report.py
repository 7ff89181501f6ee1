"""The Reporting page: the reliability and procedure section of a paper (issue #13), in
Markdown and LaTeX, for leads and owners (who read agreement)."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse

from annotate.access import get_project_for_agreement
from annotate.markdown import render_markdown

from .cache import methods_facts
from .methods_text import methods_latex, methods_markdown


@login_required
def reporting(request, slug):
    project, membership = get_project_for_agreement(request.user, slug)
    facts = methods_facts(project)
    markdown = methods_markdown(facts)
    context = {
        "project": project,
        "membership": membership,
        "markdown": markdown,
        "latex": methods_latex(facts),
        "preview": render_markdown(markdown),
        "api": reverse("api-report-methods", args=[project.slug]),
    }
    return render(request, "analysis/reporting.html", context)
