"""Scenarios by name. A module here calls `register(Scenario(...))`; the runner finds it.

A scenario is a name, a locustfile, and a `target()` context manager that yields the base URL
to load (a server it starts itself, a whole local CDN, ...). `--host` skips the target.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

Target = Callable[[], AbstractContextManager[str]]


@dataclass(frozen=True)
class Scenario:
    name: str
    locustfile: Path
    target: Target
    description: str = ""


_REGISTRY: dict[str, Scenario] = {}


class UnknownScenarioError(KeyError):
    """No scenario module registered this name."""


def register(scenario: Scenario) -> Scenario:
    existing = _REGISTRY.get(scenario.name)
    if existing is not None and existing != scenario:
        raise ValueError(f"scenario {scenario.name!r} is registered twice")
    if not scenario.locustfile.is_file():
        raise FileNotFoundError(f"scenario {scenario.name!r}: no locustfile {scenario.locustfile}")
    _REGISTRY[scenario.name] = scenario
    return scenario


def discover() -> dict[str, Scenario]:
    """Import every scenario module (each registers itself); the registry by name."""
    for info in pkgutil.iter_modules(__path__):
        if not info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{info.name}")
    return dict(sorted(_REGISTRY.items()))


def get(name: str) -> Scenario:
    found = discover()
    if name not in found:
        raise UnknownScenarioError(f"unknown scenario {name!r}; choose from {', '.join(found)}")
    return found[name]
