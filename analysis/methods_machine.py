"""The methods section's paragraph on machine raters (issue #18): how each rater was set up
and how far it agrees with the final labels, beside (never instead of) the human-human
agreement that heads the section. Read from analysis.rater_agreement's report, outside the
per-version cache: rater runs do not move the data version."""


def machine_facts(project) -> list[dict]:
    """Per rater with a finished run: its configuration, counts, kappa against the final
    labels at each dimension's top level, and the delegation point at confidence 0.9."""
    from annotate.access import project_raters

    from .rater_agreement import build_rater_report

    if not project_raters(project).exists():
        return []
    facts = []
    for rater in build_rater_report(project)["raters"]:
        if rater["run"] is None:
            continue
        top = {
            row["dimension"]: row
            for row in rater["rows"]
            if row["versus"] == "final" and row["level"] == 1
        }
        whole = next(c["points"] for c in rater["delegation"] if c["dimension"] == "all")
        at_90 = next(p for p in whole if p["threshold"] == 0.9)
        facts.append(
            {
                "name": rater["name"],
                "kind": rater["kind"],
                "run": rater["run"],
                "codebook_version": rater["codebook_version"],
                "counts": rater["counts"],
                "multi_record_items": rater["multi_record_items"],
                "skipped_multi_record": rater["skipped_multi_record"],
                "kappa_final": {k: r["kappa"] for k, r in top.items()},
                "n_final": {k: r["n"] for k, r in top.items()},
                "delegation_90": at_90,
                "runs_compared": len({s["runs"] for s in rater["stability"]})
                and max(s["runs"] for s in rater["stability"]),
            }
        )
    return facts


def machine_paragraph(w, facts: dict, number) -> None:
    """The paragraph, in `w` (methods_text's writer); nothing without a rated run."""
    machines = facts.get("machines") or []
    if not machines:
        return
    w.heading("Machine raters")
    sentences = [
        "Machine raters labeled the items blind to the annotators and the annotators blind "
        "to them (no annotator saw a machine's label; leads saw them in adjudication only "
        "where the project allowed it). The agreement reported above is between humans "
        "only; the machines are compared with the final labels below, by Cohen's "
        f"{w.kappa()} at each dimension's top level."
    ]
    for m in machines:
        kind = (
            "a built-in TF-IDF and linear classifier"
            if m["kind"] == "builtin"
            else ("an OpenAI-compatible model")
        )
        kappas = ", ".join(
            f"{w.esc(key)} {number(value)} (n = {m['n_final'][key]})"
            for key, value in m["kappa_final"].items()
            if value is not None
        )
        c, d = m["counts"], m["delegation_90"]
        sentence = (
            f"{w.esc(m['name'])} ({kind}; run {m['run']}, codebook version "
            f"{m['codebook_version']}) rated {c['items_done']} items, failed on "
            f"{c['failed_items']} and gave {c['invalid_answers']} invalid answers; "
            f"{c['quotes_not_found']} of its evidence quotes were not found in the text."
        )
        if kappas:
            sentence += f" Against the final labels: {w.kappa()} {kappas}."
        if d["n"]:
            sentence += (
                f" At confidence 0.9 or more it covered {number(d['share'])} of the items "
                f"with an accuracy of {number(d['accuracy'])} against the final labels."
            )
        if m["multi_record_items"]:
            sentence += (
                f" On the {m['multi_record_items']} items where it or the final labels gave "
                "several failure records, its records were paired with theirs by content, as "
                "the annotators' records are paired above."
            )
        if m["skipped_multi_record"]:
            sentence += (
                " Its agreement with the human majority and its run-to-run stability cover "
                f"single-record items only ({m['skipped_multi_record']} items with several "
                "records left out): a majority vote over records would need the annotators' "
                "records grouped first, which votes over groups of unequal size do not make "
                "sound."
            )
        if m["runs_compared"]:
            sentence += f" Its stability was measured over {m['runs_compared']} runs."
        sentences.append(sentence)
    w.para(*sentences)
