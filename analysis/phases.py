"""The phases of a project's agreement (issue #17): the pilot (open coding) and the main
phase (closed coding) are ranges of codebook versions, split at the version the lead's
switch made (Project.main_since_version). Kappa is reported for the main phase by default
once a project has one; the pilot and the whole study stay a choice away."""

from .specs import SpecError

PHASES = ("main", "pilot", "all")
NO_END = 2**31


def default_phase(project) -> str:
    return "main" if project.main_since_version else "all"


def parse_phase(value, project) -> str:
    """The phase asked for (default: default_phase); SpecError names a bad one."""
    if value in (None, ""):
        return default_phase(project)
    if value not in PHASES:
        raise SpecError(f"'phase={value}' must be one of {', '.join(PHASES)}.")
    return value


def phase_versions(project, phase: str) -> tuple[int, int] | None:
    """The codebook versions of ``phase`` as [low, high), or None for the whole study (and
    for every phase of a project that never switched to a main phase)."""
    since = project.main_since_version
    if phase == "all" or not since:
        return None
    return (since, NO_END) if phase == "main" else (0, since)


def phase_rows(project, report_of, dimension: str, level: int) -> list[dict]:
    """One row per phase (pilot, main) for a dimension and level, from ``report_of(versions)``
    (a cached agreement report); empty for a project without a main phase."""
    if not project.main_since_version:
        return []
    rows = []
    for phase in ("pilot", "main"):
        report = report_of(phase_versions(project, phase))
        row = next((r for r in report.rows()
                    if r["dimension"] == dimension and r["level"] == level), None)  # fmt: skip
        rows.append({"phase": phase, **(row or {"n": 0, "kappa": None})})
    return rows
