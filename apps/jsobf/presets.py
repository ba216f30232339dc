"""The three strength presets: which transformations run, and how often."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class PresetName(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"


@dataclass(frozen=True)
class Preset:
    """Renaming, the string array and compaction run at every preset.

    `property_names_to_strings` rewrites `a.name` as `a[<string array call>]`, so property
    names leave the source too (the properties themselves keep their names);
    `numbers_to_expressions` also writes `true`/`false` as `!![]`/`![]`.
    """

    name: PresetName
    encode_strings: bool
    numbers_to_expressions: bool
    dead_code_rate: float
    flatten_control_flow: bool
    property_names_to_strings: bool


PRESETS: dict[PresetName, Preset] = {
    PresetName.low: Preset(PresetName.low, False, False, 0.0, False, False),
    PresetName.medium: Preset(PresetName.medium, True, True, 0.12, False, False),
    PresetName.high: Preset(PresetName.high, True, True, 0.25, True, True),
}
