"""Tables as CSV and as LaTeX (booktabs), Django-free."""

import csv
import io
import math

from annotate.csv_cells import guard

_LATEX = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    # In LaTeX's default (OT1) text fonts these print as other glyphs ('>' as an inverted
    # question mark), and every category path holds ' > '. As methods_text escapes them.
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
}


def cell_text(value, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def to_csv(header: list[str], rows: list[list]) -> str:
    """The table as CSV; text cells a spreadsheet would run as formulas are guarded."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([guard(h) for h in header])
    for row in rows:
        writer.writerow([guard(cell_text(v, 6)) for v in row])
    return buffer.getvalue()


def latex_escape(text: str) -> str:
    return "".join(_LATEX.get(ch, ch) for ch in text)


def to_latex(header: list[str], rows: list[list], *, caption: str = "", label: str = "") -> str:
    """A booktabs table; numbers right-aligned, text left-aligned, undefined cells as --."""
    numeric = [
        all(isinstance(r[i], int | float) or r[i] is None for r in rows) and bool(rows)
        for i in range(len(header))
    ]
    spec = "".join("r" if n else "l" for n in numeric)
    lines = [
        r"\begin{table}[t]",
        r"\centering",
        rf"\caption{{{latex_escape(caption)}}}" if caption else "",
        rf"\label{{{latex_escape(label)}}}" if label else "",
        rf"\begin{{tabular}}{{{spec}}}",
        r"\toprule",
        " & ".join(latex_escape(h) for h in header) + r" \\",
        r"\midrule",
    ]
    for row in rows:
        cells = [latex_escape(cell_text(v, 3)) or "--" for v in row]
        lines.append(" & ".join(cells) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}", r"\end{table}", ""]
    return "\n".join(line for line in lines if line != "") + "\n"
