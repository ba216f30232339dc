"""Small PromQL helpers: the metric names an expression reads, and Grafana variable substitution.

Parsing for validity is left to `promtool check rules`; this only needs to find the names,
which PromQL makes easy once strings, label matchers, durations and grouping clauses are gone.
"""

from __future__ import annotations

import re

_KEYWORDS = frozenset(
    {
        "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset",
        "and", "or", "unless", "atan2", "inf", "nan", "start", "end",
    }
)  # fmt: skip
_STRING = re.compile(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|`[^`]*`')
_MATCHERS = re.compile(r"\{[^{}]*\}")
_RANGE = re.compile(r"\[[^\]]*\]")
_GROUPING = re.compile(
    r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", re.IGNORECASE
)
_IDENT = re.compile(r"(?<![\w:.])([A-Za-z_:][\w:]*)(?![\w:])(?!\s*\()")
_NUMBER_SUFFIX = re.compile(r"\b\d+(\.\d+)?(e[+-]?\d+)?[smhdwy]?\b", re.IGNORECASE)
_VARIABLE = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]")


def metric_names(expr: str) -> set[str]:
    """Names of the series an expression selects (metric names and recorded series)."""
    text = _STRING.sub('""', expr)
    text = _MATCHERS.sub("", text)
    text = _RANGE.sub("", text)
    text = _GROUPING.sub("", text)
    text = _NUMBER_SUFFIX.sub(" ", text)
    return {name for name in _IDENT.findall(text) if name.lower() not in _KEYWORDS}


def substitute_variables(
    expr: str, values: dict[str, str] | None = None, *, rate_interval: str = "1m"
) -> str:
    """Replace Grafana variables so the expression is plain PromQL.

    `$__rate_interval`, `$__interval` and `$__range` become durations; a dashboard variable
    becomes its value from `values`, else `.*` (only ever used inside `=~` matchers).
    """
    values = values or {}
    builtins = {
        "__rate_interval": rate_interval,
        "__interval": rate_interval,
        "__range": rate_interval,
    }

    def replace(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2) or match.group(3)
        if name in builtins:
            return builtins[name]
        return values.get(name, ".*")

    return _VARIABLE.sub(replace, expr)
