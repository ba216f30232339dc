"""The correctness bar: every corpus program prints the same before and after obfuscation."""

from __future__ import annotations

from pathlib import Path

import pytest

from apps.jsobf.presets import PresetName
from apps.jsobf.services import obfuscate_source
from tests.apps.jsobf.conftest import corpus_programs, needs_node, run_all

pytestmark = needs_node
PROGRAMS = corpus_programs()
SEED = 20240


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], tuple]:
    """Every program and its three obfuscations, all run under node in one parallel batch."""
    folder = tmp_path_factory.mktemp("jsobf-corpus")
    jobs: dict[tuple[str, str], Path] = {}
    for program in PROGRAMS:
        jobs[(program.name, "original")] = program
        for preset in PresetName:
            target = folder / f"{program.stem}.{preset.value}.js"
            target.write_text(obfuscate_source(program.read_bytes(), preset, SEED))
            jobs[(program.name, preset.value)] = target
    results = run_all(jobs.values())
    return {key: results[path] for key, path in jobs.items()}


def test_the_corpus_has_at_least_thirty_programs():
    assert len(PROGRAMS) >= 30


@pytest.mark.parametrize("program", [path.name for path in PROGRAMS])
def test_original_program_runs_cleanly(runs, program):
    status, stdout, error = runs[(program, "original")]
    assert status == 0, error
    assert stdout.strip()


@pytest.mark.parametrize("preset", [preset.value for preset in PresetName])
@pytest.mark.parametrize("program", [path.name for path in PROGRAMS])
def test_obfuscated_program_prints_the_same_output(runs, program, preset):
    assert runs[(program, preset)] == runs[(program, "original")]
