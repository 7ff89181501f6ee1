"""What every page's navigation needs: the discussion inbox's badge, counted lazily (one
query, and only when a project page's navigation shows it)."""

from django.utils.functional import SimpleLazyObject

from annotate.access import inbox_badge


def inbox(request) -> dict:
    match = getattr(request, "resolver_match", None)
    slug = match.kwargs.get("slug") if match is not None else None
    user = getattr(request, "user", None)
    if not slug or user is None:
        return {"inbox_badge": 0}
    return {"inbox_badge": SimpleLazyObject(lambda: inbox_badge(user, slug))}
