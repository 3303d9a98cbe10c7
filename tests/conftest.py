import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true",
                     help="Rewrite the expected files of the golden books; review the diff.")


@pytest.fixture
def update_golden(request):
    return request.config.getoption("--update-golden")


@pytest.fixture(autouse=True)
def _stable_env(monkeypatch):
    """No test depends on the machine's clock zone, locale or an exported CADENCE_TODAY."""
    monkeypatch.delenv("CADENCE_TODAY", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "160")
