"""The contract "analysis.metrics imports no Django" forbade only `django` itself. With
include_external_packages, import-linter does not follow imports inside external packages,
so analysis.metrics could import rest_framework, django_filters (or `config`, which is not
a root package either) and the contract stayed KEPT while Django came in with them. Every
Django add-on the project installs, and config, must be forbidden by name."""

import tomllib
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
OWN_APPS = {"annotate", "mining", "analysis", "dataset"}


def _forbidden() -> set[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    contracts = config["contracts"]
    (contract,) = [c for c in contracts if c.get("source_modules") == ["analysis.metrics"]]
    return set(contract["forbidden_modules"])


def test_metrics_contract_forbids_every_django_addon_and_config():
    addons = {app.split(".")[0] for app in settings.INSTALLED_APPS} - OWN_APPS
    middleware = {m.split(".")[0] for m in settings.MIDDLEWARE}
    missing = (addons | middleware | {"config"}) - _forbidden()
    assert not missing, f"analysis.metrics may import these unchecked: {sorted(missing)}"
