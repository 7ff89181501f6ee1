"""The house's structure, checked rather than remembered (docs/architecture.md).

The layers (dataset > analysis > annotate > mining, mining reading only annotate's models and
access, analysis.metrics free of Django) are import-linter contracts in pyproject.toml, run
here and by `make lint`. Modules stay small enough to read: about 500 lines, data tables
aside."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = ("annotate", "analysis", "dataset", "mining", "config")
MAX_LINES = 500
# Tables of data, one entry per line: splitting them would not make them easier to read.
DATA_TABLES = {"annotate/presets.py", "mining/synthetic.py"}


def test_import_contracts_are_kept():
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_the_contracts_name_every_app_layer():
    """A new app must take its place in the layers, or the contract would not see it."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    layers = next(c for c in config["contracts"] if c["type"] == "layers")["layers"]
    assert set(config["root_packages"]) == set(layers)
    apps = {
        path.parent.name
        for path in ROOT.glob("*/apps.py")
        if path.parent.name not in {"config", "tests"}
    }
    assert apps == set(layers)


def test_no_module_is_over_about_500_lines():
    long = []
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            relative = path.relative_to(ROOT).as_posix()
            if "/migrations/" in relative or relative in DATA_TABLES:
                continue
            lines = len(path.read_text().splitlines())
            if lines > MAX_LINES:
                long.append(f"{relative}: {lines} lines")
    assert not long, "split these along the stories they tell: " + ", ".join(long)
