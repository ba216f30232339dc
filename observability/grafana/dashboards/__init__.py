"""Every dashboard, one module each: a module here with `UID` and `build()` is a dashboard.

Adding a dashboard (the leaderboard's, the CDN's) is one new module; `stackyard observe
dashboards` writes `observability/grafana/json/<module>.json`, which Grafana provisions.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
from pathlib import Path
from types import ModuleType
from typing import Any

from grafana_foundation_sdk.cog.encoder import JSONEncoder

JSON_DIR = Path(__file__).resolve().parent.parent / "json"


def names() -> list[str]:
    """Every dashboard module's name, sorted (the name is also the snapshot's argument)."""
    return sorted(
        info.name for info in pkgutil.iter_modules(__path__) if not info.name.startswith("_")
    )


def module(name: str) -> ModuleType:
    if name not in names():
        raise KeyError(f"unknown dashboard {name!r}; choose from {', '.join(names())}")
    return importlib.import_module(f"{__name__}.{name}")


def render(name: str) -> dict[str, Any]:
    """The dashboard's JSON model as committed: no `id`/`version`, panel ids numbered in order."""
    mod = module(name)
    model = json.loads(json.dumps(mod.build().build(), cls=JSONEncoder))
    model = _without_nulls(model)
    for key in ("id", "version"):
        model.pop(key, None)
    if model.get("uid") != mod.UID:
        raise ValueError(f"dashboard {name}: uid {model.get('uid')!r} is not UID {mod.UID!r}")
    for variable in model.get("templating", {}).get("list", []):
        variable.pop("id", None)  # the SDK's all-zero placeholder; Grafana keys on `name`
    next_id = 1
    for panel in model.get("panels", []):
        for item in (panel, *panel.get("panels", [])):
            item["id"] = next_id
            next_id += 1
    return model


def dump(model: dict[str, Any]) -> str:
    return json.dumps(model, indent=2, sort_keys=True) + "\n"


def write_all(folder: Path = JSON_DIR) -> list[Path]:
    """Regenerate every dashboard's JSON into `folder`; returns the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name in names():
        path = folder / f"{name}.json"
        path.write_text(dump(render(name)))
        written.append(path)
    return written


def committed(name: str, folder: Path = JSON_DIR) -> dict[str, Any]:
    """The committed JSON model of a dashboard (what Grafana and the snapshot renderer read)."""
    result: dict[str, Any] = json.loads((folder / f"{name}.json").read_text())
    return result


def queries(model: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(panel title, refId, expr) of every PromQL query in a dashboard model, variables too."""
    found = []
    for panel in model.get("panels", []):
        for item in (panel, *panel.get("panels", [])):
            for target in item.get("targets", []):
                if target.get("expr"):
                    found.append((item.get("title", ""), target.get("refId", ""), target["expr"]))
    for variable in model.get("templating", {}).get("list", []):
        query = variable.get("query")
        if isinstance(query, str) and query.startswith("label_values("):
            inner = query[len("label_values(") : -1].rsplit(",", 1)[0].strip()
            found.append((f"${variable['name']}", "var", inner))
    return found


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value
