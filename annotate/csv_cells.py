"""CSV cells a spreadsheet will not run as formulas (issue #12); Django-free.

Excel, LibreOffice and Google Sheets treat a cell that starts with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return as a formula. Every CSV download passes its cells
through :func:`guard`, which prefixes such text with one single quote (the spreadsheets'
own "this is text" mark); numbers, and text that reads as a plain number such as ``-1.5``,
stay numbers. Text that already starts with quotes before a formula character gets one
more, so :func:`unguard`, which importers apply, is its exact inverse.
"""

import re

_FORMULA = re.compile(r"'*[=+\-@\t\r]")
_GUARDED = re.compile(r"'+[=+\-@\t\r]")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def guard(value):
    """``value`` as a CSV cell safe to open in a spreadsheet (non-text values unchanged)."""
    if isinstance(value, str) and _FORMULA.match(value) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def unguard(text: str) -> str:
    """The text :func:`guard` was given: one leading quote off a guarded cell."""
    if _GUARDED.match(text) and not _NUMBER.fullmatch(text[1:]):
        return text[1:]
    return text
