"""Fixtures of the analysis tests: a label builder on the project, and two repositories.
The builders themselves are in tests/builders.py."""

import pytest

from tests.builders import LabelBuilder
from tests.factories import RepositoryFactory


@pytest.fixture
def labels(project):
    return LabelBuilder(project)


@pytest.fixture
def repos(db):
    return {
        "Qwen": RepositoryFactory(owner="QwenLM", name="Qwen", group="Qwen"),
        "Llama": RepositoryFactory(owner="meta-llama", name="llama", group="Llama"),
    }
