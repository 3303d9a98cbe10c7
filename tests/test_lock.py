"""requirements.lock: one pin for each package on each Python that pyproject.toml supports, each
within pyproject.toml's bounds, so that the README's commands install what was tested on any
of them."""
from __future__ import annotations

import os
import sys

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

if sys.version_info >= (3, 11):
    import tomllib
else:  # pytest brings tomli where the stdlib has no tomllib
    import tomli as tomllib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PYTHONS = ["3.10", "3.11", "3.12", "3.13"]


def _project() -> dict:
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as handle:
        return tomllib.load(handle)["project"]


def _pins() -> list:
    with open(os.path.join(ROOT, "requirements.lock"), encoding="utf-8") as handle:
        lines = [line.strip() for line in handle]
    return [Requirement(line) for line in lines if line and not line.startswith("#")]


def _environment(python: str) -> dict:
    return dict(default_environment(), python_version=python, python_full_version=python + ".0",
                sys_platform="linux", platform_system="Linux")


def _wanted(project: dict) -> list:
    extras = project["optional-dependencies"]
    return [Requirement(text) for text in project["dependencies"] + extras["test"] + extras["bench"]]


def test_every_supported_python_is_checked():
    assert _project()["requires-python"] == ">=" + PYTHONS[0]


@pytest.mark.parametrize("python", PYTHONS)
def test_each_package_has_one_pin_on_each_python(python):
    env = _environment(python)
    pins = {}
    for pin in _pins():
        specifiers = list(pin.specifier)
        assert len(specifiers) == 1 and specifiers[0].operator == "==", str(pin)
        if pin.marker is None or pin.marker.evaluate(env):
            name = canonicalize_name(pin.name)
            assert name not in pins, f"{name} pinned twice for Python {python}"
            pins[name] = specifiers[0].version
    for wanted in _wanted(_project()):
        name = canonicalize_name(wanted.name)
        assert name in pins, f"{name} has no pin for Python {python}"
        assert wanted.specifier.contains(pins[name], prereleases=True), \
            f"{name}=={pins[name]} is outside pyproject.toml's {wanted.specifier}"


def test_the_running_python_installed_the_pins():
    """What this test run imports is what the lock pins for this Python."""
    from importlib.metadata import PackageNotFoundError, version

    env = _environment("%d.%d" % sys.version_info[:2])
    checked = 0
    for pin in _pins():
        if pin.marker is not None and not pin.marker.evaluate(env):
            continue
        try:
            installed = version(pin.name)
        except PackageNotFoundError:
            continue  # the bench extra's, which the test command does not install
        assert installed == next(iter(pin.specifier)).version, pin.name
        checked += 1
    assert checked >= 20


def test_the_pins_keep_within_the_constraints():
    """constraints.txt holds the lock's upper bounds (the README's uv command passes it)."""
    with open(os.path.join(ROOT, "constraints.txt"), encoding="utf-8") as handle:
        bounds = [Requirement(line.split("#")[0].strip()) for line in handle
                  if line.split("#")[0].strip()]
    assert bounds
    pins = _pins()
    for bound in bounds:
        name = canonicalize_name(bound.name)
        found = [pin for pin in pins if canonicalize_name(pin.name) == name]
        assert found, f"{name} is in constraints.txt but not in the lock"
        for pin in found:
            assert bound.specifier.contains(next(iter(pin.specifier)).version), str(pin)
    with open(os.path.join(ROOT, "requirements.lock"), encoding="utf-8") as handle:
        assert "-c constraints.txt" in handle.read(2000)
