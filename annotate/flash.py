"""A form's inputs and its error kept for one request (Post/Redirect/Get): a page whose POST
fails redirects back to itself, and the GET that follows shows the error with the inputs
as they were typed. Kept in the session, read once."""

from django.http import QueryDict

_PREFIX = "flash-form:"
_SKIPPED = {"csrfmiddlewaretoken"}


def keep_form(request, key: str, error: str) -> None:
    """Keep `request.POST` (but its CSRF token) and `error` under `key` for the next read."""
    fields = {name: request.POST.getlist(name) for name in request.POST if name not in _SKIPPED}
    request.session[_PREFIX + key] = {"fields": fields, "error": error}


def take_form(request, key: str) -> tuple[QueryDict | None, str]:
    """The inputs and error kept under `key` (and forget them), or (None, "")."""
    kept = request.session.pop(_PREFIX + key, None)
    if not isinstance(kept, dict):
        return None, ""
    data = QueryDict(mutable=True)
    for name, values in (kept.get("fields") or {}).items():
        data.setlist(name, [str(v) for v in values])
    return data, str(kept.get("error") or "")
