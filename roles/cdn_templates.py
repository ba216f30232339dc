"""The CDN's nginx edge and HAProxy templates (`apps/cdn/templates/`), rendered for a node.

Rendered here rather than by `files.template`, whose own `user`/`group` arguments would take
the template's `user` key; the templates take plain dicts (documented at the top of each).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

CDN_TEMPLATES = Path(__file__).resolve().parents[1] / "apps" / "cdn" / "templates"


def render_cdn_template(name: str, context: dict[str, Any]) -> str:
    environment = Environment(
        loader=FileSystemLoader(CDN_TEMPLATES),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,  # nginx / HAProxy configuration, not HTML  # noqa: S701
    )
    return environment.get_template(name).render(**context)
