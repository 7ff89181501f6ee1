"""The reliability and procedure section of a paper, as Markdown and as LaTeX, from the facts
``analysis.methods.methods_facts`` gathers. Django-free.

The section follows GRRAS, the Guidelines for Reporting Reliability and Agreement Studies
(Kottner et al. 2011, J Clin Epidemiol 64(1):96-106): the sample and how it was drawn
(items 2, 4), the raters and their training (3, 5, 6), the rating process and blinding (7,
8), every statistic with its confidence interval and convention (9, 10), and what happened
to disagreements. Every number comes from the facts; user text (names, batches, filters) is
escaped for the target language. A statistic that is undefined reads "undefined (reason)".
"""

import re

from .methods_calibration import calibration_paragraph
from .methods_machine import machine_paragraph

STATISTICS = {"cohen": "Cohen's κ", "fleiss": "Fleiss' κ", "light": "Light's κ"}
STATISTICS_TEX = {"cohen": r"Cohen's $\kappa$", "fleiss": r"Fleiss' $\kappa$",
                  "light": r"Light's $\kappa$"}  # fmt: skip
DEFAULT_CI = "asymptotic Wald interval (Fleiss, Cohen & Everitt 1969)"
ROW_NAMES = {"scope": "Scope (in or out)", "record_count": "Number of failure records"}
# Optional columns of the agreement table, shown when some row carries the value.
OPTIONAL = (
    ("pabak", "PABAK", "PABAK"),
    ("kappa_max", "κ_max", r"$\kappa_{\max}$"),
    ("prevalence_index", "PI", "PI"),
    ("bias_index", "BI", "BI"),
)
LATEX_SYMBOLS = {"κ": r"$\kappa$", "α": r"$\alpha$", "–": "--"}
CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~&=$])")
TEX = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
    "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
    "<": r"\textless{}", ">": r"\textgreater{}", "|": r"\textbar{}", '"': r"\textquotedbl{}",
}  # fmt: skip


def md(text) -> str:
    """User text as literal Markdown: control characters (newlines too) become spaces and
    every ASCII punctuation character Markdown or HTML could read is backslash-escaped
    (CommonMark 0.31, section 2.4), so no name opens a link, a tag, a table cell or code."""
    return MD_SPECIAL.sub(r"\\\1", CONTROL.sub(" ", str(text)))


def tex(text) -> str:
    """User text as literal LaTeX (text mode): the ten special characters and <, >, |, "
    as their text commands; control characters (newlines too) become spaces."""
    return "".join(TEX.get(ch, ch) for ch in CONTROL.sub(" ", str(text)))


def _num(value, digits: int = 3) -> str:
    return "undefined" if value is None else f"{value:.{digits}f}"


def _percent(share) -> str:
    return "undefined" if share is None else f"{100 * share:.1f}%"


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def _were(n: int, one: str, many: str | None = None) -> str:
    return f"{_plural(n, one, many)} {'was' if n == 1 else 'were'}"


class _Writer:
    """Builds the same section in Markdown or LaTeX: ``esc`` escapes user text."""

    def __init__(self, latex: bool):
        self.latex = latex
        self.esc = tex if latex else md
        self.lines: list[str] = []

    def heading(self, text: str, level: int = 3):
        if self.latex:
            command = "subsection" if level <= 2 else "subsubsection"
            self.lines += [rf"\{command}*{{{text}}}", ""]
        else:
            self.lines += [f"{'#' * level} {text}", ""]

    def para(self, *sentences: str):
        text = " ".join(s for s in sentences if s)
        if text:
            self.lines += [text, ""]

    def items(self, entries: list[str]):
        if not entries:
            return
        if self.latex:
            self.lines += [r"\begin{itemize}", *(rf"\item {e}" for e in entries),
                           r"\end{itemize}", ""]  # fmt: skip
        else:
            self.lines += [*(f"- {e}" for e in entries), ""]

    def code(self, text: str) -> str:
        return rf"\texttt{{{tex(text)}}}" if self.latex else f"`{_md_code(text)}`"

    def kappa(self) -> str:
        return r"$\kappa$" if self.latex else "κ"

    def text(self) -> str:
        text = "\n".join(self.lines).rstrip() + "\n"
        if self.latex:
            # The fixed text's symbols; user text is escaped already (its % as \%).
            text = re.sub(r"(?<!\\)%", r"\\%", text)
            for symbol, command in LATEX_SYMBOLS.items():
                text = text.replace(symbol, command)
        return text


def _md_code(text: str) -> str:
    """Text inside a Markdown code span: backticks cannot close it, newlines cannot break it.
    Backslash escapes do not work in code spans, so backticks are replaced."""
    return CONTROL.sub(" ", str(text)).replace("`", "'")


def _sample(w: _Writer, facts: dict):
    sample, project = facts["sample"], facts["project"]
    w.heading("Sample")
    groups = sample["groups"]
    w.para(
        f"The labeling pool of {w.esc(project['name'])} holds "
        f"{_plural(sample['items'], 'issue')} from "
        f"{_plural(sample['repositories'], 'repository', 'repositories')}"
        + (
            f" in {_plural(len(groups), 'group')} ({', '.join(w.esc(g) for g in groups)})."
            if groups
            else "."
        ),  # fmt: skip
    )
    definition = sample["definition"]
    if not definition:
        w.para(
            "No pool definition is stored with the project: its items were imported or "
            "added directly, not drawn by the pool builder."
        )
        return
    filters = ["pull requests, duplicates and deleted issues excluded"]
    if definition.get("repositories"):
        filters.append(_plural(len(definition["repositories"]), "chosen repository",
                               "chosen repositories"))  # fmt: skip
    if definition.get("groups"):
        filters.append("groups " + ", ".join(w.esc(g) for g in definition["groups"]))
    if definition.get("state"):
        filters.append(f"state {w.esc(definition['state'])}")
    if definition.get("labels"):
        filters.append("GitHub labels " + ", ".join(w.esc(x) for x in definition["labels"]))
    if definition.get("keywords"):
        filters.append(f"keywords {w.code(definition['keywords'])}")
    if definition.get("regex"):
        filters.append(f"regular expression {w.code(definition['regex'])}")
    if definition.get("created_after"):
        filters.append(f"created on or after {w.esc(definition['created_after'])}")
    if definition.get("created_before"):
        filters.append(f"created before {w.esc(definition['created_before'])}")
    if definition.get("min_comments"):
        filters.append(f"at least {_plural(int(definition['min_comments']), 'comment')}")
    if definition.get("near_duplicates"):
        filters.append(
            "near-duplicates folded: issues whose titles, stack traces and error messages "
            f"reach a similarity of at least {float(definition['near_duplicates']):g}, or "
            f"that GitHub marks {w.code('Duplicate of #N')}, form groups, and one issue per "
            "group was kept (the marked original, else the first opened)"
        )
    built = definition.get("built_at")
    w.para(f"The pool was drawn from the mined issues{' on ' + w.esc(built[:10]) if built else ''}"
           " with these filters (the definition is stored with the project):")  # fmt: skip
    w.items(filters)
    size, selected = definition.get("sample_size"), definition.get("selected")
    if size is None:
        taken = f" ({selected} issues)" if selected is not None else ""
        w.para(f"Every issue that passed the filters was taken{taken}.")
    else:
        how = (
            "a random sample stratified by repository (largest-remainder quotas)"
            if definition.get("stratify")
            else "a simple random sample"
        )
        w.para(
            f"From the issues that passed, {how} of {_plural(int(size), 'issue')} was drawn "
            f"with seed {w.esc(definition.get('seed'))}"
            + (f"; {_were(int(selected), 'issue')} selected." if selected is not None else ".")
        )


def _coding(w: _Writer, facts: dict):
    coding, coders, codebook = facts["coding"], facts["coders"], facts["codebook"]
    w.heading("Coders and coding procedure")
    names = ", ".join(w.esc(c["name"]) for c in coders["coders"])
    hidden = " (pseudonyms; the project hides annotator names)" if coders["names_hidden"] else ""
    if coders.get("pseudonyms"):  # a release's: annotators named as its annotations name them
        hidden = " (pseudonyms, as in the release's annotations)"
    w.para(
        f"{_plural(coders['count'], 'coder')} submitted "
        f"{_plural(coders['annotations'], 'annotation')}"
        + (f": {names}{hidden}." if names else "."),
        f"The project has {_plural(coders['annotator_members'], 'member')} with the "
        "annotator role.",
    )
    w.para(
        f"Each item is given to {coding['overlap']} coders, who label it independently: the "
        "queue hands out an item's pairs first and calibration batches before everything "
        "else, and no coder sees another's labels before the item is settled.",
        f"Of {_plural(coding['items'], 'item')}, {coding['double_coded']} were coded by two "
        f"or more coders (double-coded), {coding['single_coded']} by one and "
        f"{coding['uncoded']} by none"
        + (
            f" ({coding['imported_uncoded']} of them carry final labels imported from elsewhere)."
            if coding.get("imported_uncoded")
            else " yet."
        ),
    )
    batches = coding["calibration_batches"]
    if coding["calibration_items"]:
        w.para(
            f"{_plural(coding['calibration_items'], 'item')} formed calibration batches, "
            "labeled before the main sample:"
        )
        w.items([
            f"{w.esc(b['batch']) if b['batch'] else 'unnamed batch'}: "
            f"{_plural(b['items'], 'item')}, {b['double_coded']} double-coded"
            for b in batches
        ])  # fmt: skip
    else:
        w.para("No calibration batch was used.")
    calibration_paragraph(w, facts.get("coder_calibration"), _num, _plural)
    dims = "; ".join(
        f"{w.esc(d['name'])} ({_plural(d['levels'], 'level')}, "
        f"{_plural(d['categories'], 'category', 'categories')}"
        + (f"; {d['retired_categories']} retired" if d.get("retired_categories") else "")
        + ")"
        for d in codebook["dimensions"]
    )
    used = codebook["versions_in_annotations"]
    changes = ", ".join(f"{n} {w.esc(kind)}" for kind, n in codebook["changes"].items())
    w.para(
        f"The codebook has {_plural(len(codebook['dimensions']), 'dimension')}"
        + (f": {dims}." if dims else "."),
        f"It is at version {codebook['version']}",
        (
            f"after {_plural(sum(codebook['changes'].values()), 'recorded change')} ({changes});"
            if changes
            else "with no recorded change;"
        ),  # fmt: skip
        "the annotations were made under "
        + (
            f"version{'s' if len(used) > 1 else ''} {', '.join(map(str, used))}."
            if used
            else "no version yet (no annotation)."
        ),  # fmt: skip
    )


def _statistic(row: dict, latex: bool) -> str:
    names = STATISTICS_TEX if latex else STATISTICS
    return names.get(row.get("kappa_statistic") or "cohen", tex(row.get("kappa_statistic"))
                     if latex else md(row.get("kappa_statistic")))  # fmt: skip


def _ci_method(w: _Writer, method: str | None) -> str:
    """The report's interval method (escaped), or the asymptotic one this code computes."""
    if method:
        return w.esc(method)
    return DEFAULT_CI.replace("&", r"\&") if w.latex else DEFAULT_CI


def _shared_issues(issues: int, records: int) -> str:
    if not issues:
        return "; no issue carries more than one."
    verb = "carries" if issues == 1 else "carry"
    return (
        f"; {_plural(issues, 'issue')} {verb} more than one ({records} records between them), "
        "so records are not independent observations."
    )


def _row_name(w: _Writer, row: dict) -> tuple[str, str]:
    dimension = row.get("dimension")
    if dimension in ROW_NAMES:
        return ROW_NAMES[dimension], "–"
    name = w.esc(row.get("dimension_name") or dimension)
    if row.get("full_path"):
        return name, "full path"
    return name, "–" if row.get("level") is None else f"level {row['level']}"


def _agreement(w: _Writer, facts: dict):
    agreement = facts["agreement"]
    rows = agreement["rows"]
    w.heading("Inter-rater agreement")
    if not any(row.get("n") for row in rows):
        w.para("No agreement figure yet: no item has been coded by two coders.")
        return
    optional = [o for o in OPTIONAL if any(r.get(o[0]) is not None for r in rows)]
    methods = {r.get("ci_method") for r in rows if r.get("kappa") is not None}
    # One interval method for every row is said once, below the table; several get a column.
    method_column = len(methods) > 1
    header = [
        "Dimension", "Level", "Statistic", "n", "Agreement", "κ (95% CI)",
        *(["CI method"] if method_column else []), "α", "AC1",
        *[(o[2] if w.latex else o[1]) for o in optional], "Unpaired",
    ]  # fmt: skip
    body = []
    for row in rows:
        name, level = _row_name(w, row)
        defined = row.get("kappa") is not None
        if not defined:
            kappa = f"undefined ({w.esc(row.get('undefined') or 'not computed')})"
        elif row.get("ci_low") is None:
            kappa = _num(row["kappa"]) + " (CI undefined)"
        else:
            kappa = f"{_num(row['kappa'])} [{_num(row['ci_low'])}, {_num(row['ci_high'])}]"
        method = _ci_method(w, row.get("ci_method")) if defined else "–"
        # Every undefined figure says why: the κ cell in full, the others by reference.
        why = "as κ" if not defined else w.esc(row.get("undefined") or "not computed")

        def stat(key, row=row, why=why):
            value = row.get(key)
            return _num(value) if value is not None else f"undefined ({why})"

        body.append([
            name, level, _statistic(row, w.latex), str(row.get("n") or 0),
            _percent(row.get("percent_agreement")), kappa,
            *([method] if method_column else []), stat("alpha"), stat("ac1"),
            *[stat(o[0]) for o in optional],
            "–" if row.get("unpaired") is None else str(row["unpaired"]),
        ])  # fmt: skip
    _table(w, header, body, caption="Agreement per dimension and level")
    pairing = next((agreement.get(n) for n in ("pairing", "record_pairing") if agreement.get(n)),
                   None)  # fmt: skip
    unpaired = agreement.get("unpaired_convention")
    w.para(
        "Agreement is computed on the coders' own labels before adjudication, per dimension "
        "and level of the category tree; n counts paired units. κ is the chance-corrected "
        "agreement named in the Statistic column (Cohen 1960 for two coders; Fleiss 1971 or "
        "Light 1971 for more); α is Krippendorff's alpha (nominal) and AC1 Gwet's (2008) "
        "coefficient; agreement is the share of paired units on which the coders chose the "
        "same category.",
        (
            f"95% confidence intervals of κ: {_ci_method(w, methods.pop())}."
            if len(methods) == 1
            else "Each κ's 95% interval is by the method its row names."
            if methods
            else ""
        ),  # fmt: skip
        (
            "Pairing of failure records: " + w.esc(pairing) + "."
            if pairing
            else "Failure records of two annotations of one item are paired as the agreement "
            "report pairs them; a record without a partner is a missing value, counted as "
            "unpaired."
        ),
        ("Unpaired records: " + w.esc(unpaired) + "." if unpaired else ""),
        "Items sent to discussion count with the labels their coders gave before it (the "
        "frozen first round), not the revised ones, which were made after seeing each "
        "other's.",
        "An undefined statistic says why (for example, when only one category was used, "
        "chance agreement is total and κ is not defined).",
    )
    if phases := agreement.get("phases"):
        pilot = [
            f"{w.esc(r.get('dimension_name') or r['dimension'])} κ = {_num(r['kappa'])} "
            f"(n = {r.get('n') or 0})"
            for r in phases["pilot_rows"] if r.get("kappa") is not None
        ]  # fmt: skip
        w.para(
            "The codebook was developed by open coding in a pilot phase and frozen for the "
            f"main phase (codebook version {phases['main_since_version']} on); the figures "
            "above are the main phase's.",
            ("In the pilot: " + "; ".join(pilot) + "." if pilot else ""),
        )


def _table(w: _Writer, header: list[str], body: list[list[str]], *, caption: str):
    if w.latex:
        w.lines += [
            r"\begin{table}[t]", r"\centering", r"\small", rf"\caption{{{caption}}}",
            r"\begin{tabular}{" + "l" * 3 + "r" * (len(header) - 3) + "}", r"\toprule",
            " & ".join(header) + r" \\", r"\midrule",
            *(" & ".join(row) + r" \\" for row in body),
            r"\bottomrule", r"\end{tabular}", r"\end{table}", "",
        ]  # fmt: skip
    else:
        w.lines += [
            "| " + " | ".join(header) + " |",
            "|" + "|".join("---" for _ in header) + "|",
            *("| " + " | ".join(row) + " |" for row in body),
            "",
        ]


def _adjudication(w: _Writer, facts: dict):
    a, scope = facts["adjudication"], facts["scope"]
    w.heading("Adjudication")
    w.para(
        f"Settled: {_plural(a['settled'], 'item')}, {a['unanimous']} unanimous (the coders "
        f"agreed on every dimension and record), {a['adjudicated']} adjudicated by a lead and "
        f"{a['imported']} imported with their final labels.",
        f"{_were(a['discussed'], 'item')} sent back to their coders for discussion before a "
        f"decision and {_were(a['reopened'], 'item')} re-opened after settling.",
        f"Still open: {a['in_conflict']} in conflict, {a['in_discussion']} in discussion, "
        f"{a['open']} awaiting coders; {a['excluded']} excluded.",
        f"{a['with_rationale']} decisions carry a written rationale and "
        f"{a['codebook_needs_work']} were flagged as showing that the codebook needs work.",
    )
    if a["error_kinds"]:
        kinds = ", ".join(
            f"{w.esc(kind.replace('_', ' '))} {n}" for kind, n in a["error_kinds"].items()
        )
        w.para(f"Error kinds the leads recorded: {kinds}.")
    _consistency(w, facts.get("consistency") or {})
    w.heading("Scope")
    w.para(
        f"{_were(scope['final_out_of_scope'], 'item')} judged out of scope in the final "
        f"labels and {scope['final_in_scope']} in scope; coders marked "
        f"{_plural(scope['annotations_out_of_scope'], 'annotation')} out of scope, and "
        f"{_plural(scope['scope_disagreements'], 'item')} had coders disagree on scope.",
        f"The in-scope items hold {_plural(scope['final_records'], 'failure record')}"
        + _shared_issues(scope["issues_with_several_records"], scope["records_on_those_issues"]),
    )


def _consistency(w: _Writer, c: dict):
    """Near-duplicates labeled alike or not (issue #19); nothing when none were found."""
    if not c.get("pairs"):
        return
    dims = ", ".join(f"{w.esc(key)} {n}" for key, n in c["by_dimension"].items())
    w.para(
        f"Near-duplicate check: among the {_plural(c['settled'], 'settled item')}, "
        f"{_plural(c['pairs'], 'pair')} read as near-duplicates (similarity of titles, stack "
        f"traces and error messages of at least {_num(c['threshold'], 2)}, or marked as "
        f"duplicates on GitHub); {_plural(c['differing'], 'pair')} carried differing final "
        f"labels" + (f" ({dims})" if dims else "") + f", {c['confirmed']} of them confirmed "
        "by a lead as intended."
    )


def methods_markdown(facts: dict) -> str:
    """The section as Markdown (GitHub-flavoured tables)."""
    return _render(facts, latex=False)


def methods_latex(facts: dict) -> str:
    """The section as LaTeX (booktabs tables; needs \\usepackage{booktabs})."""
    return _render(facts, latex=True)


def _render(facts: dict, *, latex: bool) -> str:
    w = _Writer(latex)
    w.heading("Reliability and procedure", level=2)
    w.para(
        "Reported following the Guidelines for Reporting Reliability and Agreement Studies "
        "(GRRAS; Kottner et al. 2011)"
        + (
            f", from the project's data as of {facts['generated_at']}."
            if facts.get("generated_at")
            else "."
        )  # fmt: skip
    )
    _sample(w, facts)
    _coding(w, facts)
    _agreement(w, facts)
    machine_paragraph(w, facts, _num)
    _adjudication(w, facts)
    return w.text()
