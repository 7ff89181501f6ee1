"""Every URL pattern of the site, from django.urls.get_resolver(), and concrete paths for them.

A route is keyed by its full name ("namespace:name") or, when unnamed, by its route text."""

import re
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver

ROUTE_PARAM = re.compile(r"<(?:[^>:]+:)?(\w+)>")
REGEX_PARAM = re.compile(r"\(\?P<(\w+)>[^)]*\)")
HANDLER_METHODS = ("get", "post", "put", "patch", "delete")


@dataclass(frozen=True)
class Route:
    key: str
    text: str
    pieces: tuple  # (is_regex, pattern text) for each level, outermost first
    callback: object

    @property
    def params(self) -> list[str]:
        found = []
        for is_regex, piece in self.pieces:
            found += (REGEX_PARAM if is_regex else ROUTE_PARAM).findall(piece)
        return found

    def path(self, values: dict) -> str:
        """The route with `values` in its parameters, as a URL path."""
        parts = []
        for is_regex, piece in self.pieces:
            if is_regex:
                piece = REGEX_PARAM.sub(lambda m: str(values[m.group(1)]), piece)
                piece = piece.lstrip("^").rstrip("$").replace("\\.", ".")
            else:
                piece = ROUTE_PARAM.sub(lambda m: str(values[m.group(1)]), piece)
            parts.append(piece)
        return "/" + "".join(parts)

    @property
    def api_methods(self) -> set[str] | None:
        """The HTTP methods a DRF view implements (None for a function view)."""
        view_class = getattr(self.callback, "cls", None)
        if view_class is None:
            return None
        return {m.upper() for m in HANDLER_METHODS if hasattr(view_class, m)}


def _walk(patterns, pieces=(), namespace=""):
    for entry in patterns:
        piece = (type(entry.pattern).__name__ == "RegexPattern", str(entry.pattern))
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry.url_patterns, pieces + (piece,), inner)
        elif isinstance(entry, URLPattern):
            text = "".join(p for _, p in pieces + (piece,))
            key = f"{namespace}{entry.name}" if entry.name else text
            yield Route(key=key, text=text, pieces=pieces + (piece,), callback=entry.callback)


def all_routes() -> list[Route]:
    return list(_walk(get_resolver().url_patterns))
