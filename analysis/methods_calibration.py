"""The methods section's paragraph on new coders tested against the lead's gold set
(analysis.calibration), apart from methods_text for size; that module passes its writer and
its number and plural formatters in."""


def _rule(cal: dict, num, plural) -> str:
    """The pass rule the scored tries met: one, or each with its tries when the lead changed
    the settings meanwhile (today's settings when no try is scored yet)."""

    def rule(threshold, most) -> str:
        return (
            f"Cohen's κ ≥ {num(threshold, 2)} against the gold labels "
            f"(at most {plural(most, 'try', 'tries')})"
        )

    used = cal.get("settings_used") or []
    recorded = [u for u in used if u["threshold"] is not None]
    unrecorded = sum(u["tries"] for u in used if u["threshold"] is None)
    if not recorded:
        if unrecorded:  # scored before the settings were kept: today's may not be theirs
            return (
                f"a threshold not recorded for its {plural(unrecorded, 'try', 'tries')} "
                f"(today's rule: {rule(cal['threshold'], cal['max_tries'])})"
            )
        return rule(cal["threshold"], cal["max_tries"])
    if len(recorded) == 1 and not unrecorded:
        return rule(recorded[0]["threshold"], recorded[0]["max_tries"])
    parts = [
        f"{rule(u['threshold'], u['max_tries'])} for {plural(u['tries'], 'try', 'tries')}"
        for u in recorded
    ]
    if unrecorded:
        parts.append(
            f"settings not recorded for {plural(unrecorded, 'earlier try', 'earlier tries')}"
        )
    return "; ".join(parts) + " (the lead changed the settings during calibration)"


def calibration_paragraph(w, cal: dict | None, num, plural):
    """New coders tested against the lead's gold set (analysis.calibration)."""
    if not cal or not cal.get("coders"):
        return
    kappas = cal.get("passing_kappas") or []
    w.para(
        f"{plural(cal['coders'], 'new coder')} first labeled a gold set of "
        f"{plural(cal['gold_items'], 'item')} labeled by the lead, blind, to enter the "
        f"main queue at {_rule(cal, num, plural)}: {cal['passed']} passed, "
        f"{cal['failed']} failed out, "
        + (
            f"{cal['admitted']} admitted by the lead without passing, "
            if cal.get("admitted")
            else ""
        )
        + (f"{cal['pending']} still in calibration, " if cal.get("pending") else "")
        + f"in {plural(cal['tries'], 'try', 'tries')} in all"
        + (
            f"; κ vs gold at passing ranged from {num(kappas[0])} to {num(kappas[-1])}"
            if kappas
            else ""
        )
        + _undefined(cal.get("passing_undefined", 0), plural, bool(kappas))
        + ".",
        "Calibration answers are not part of the agreement figures or the dataset.",
    )


def _undefined(n: int, plural, after_range: bool) -> str:
    """Passed tries whose κ is undefined (every answer and gold label in one category), which
    the range above leaves out."""
    if not n:
        return ""
    lead = " (" if after_range else "; "
    tail = ")" if after_range else ""
    return (
        f"{lead}{plural(n, 'passing try', 'passing tries')} had κ undefined, every label in "
        f"one category, with full agreement{tail}"
    )
