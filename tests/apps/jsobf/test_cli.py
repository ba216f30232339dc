"""`stackyard jsobf DIR`: the batch over a folder, its report and its exit codes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from apps.jsobf.cli import cli
from tests.apps.jsobf.conftest import CORPUS, needs_node, run_node

runner = CliRunner()


def make_tree(root: Path) -> None:
    (root / "lib" / "deep").mkdir(parents=True)
    (root / "node_modules" / "dep").mkdir(parents=True)
    (root / ".git").mkdir()
    (root / "vendor").mkdir()
    shutil.copy(CORPUS / "01_closures.js", root / "app.js")
    shutil.copy(CORPUS / "02_classes.js", root / "lib" / "shapes.js")
    shutil.copy(CORPUS / "03_generators.js", root / "lib" / "deep" / "gen.js")
    (root / "node_modules" / "dep" / "index.js").write_text("module.exports = 1\n")
    (root / ".git" / "hook.js").write_text("x = 1\n")
    (root / "vendor" / "big.js").write_text("var big = 1\n")
    (root / "old.obs.js").write_text("var stale = 1\n")


def test_every_js_file_gets_an_obs_js_beside_it_and_exit_zero(tmp_path):
    make_tree(tmp_path)
    result = runner.invoke(cli, [str(tmp_path), "--preset", "low", "--exclude", "vendor"])
    assert result.exit_code == 0, result.output
    for name in ("app.obs.js", "lib/shapes.obs.js", "lib/deep/gen.obs.js"):
        assert (tmp_path / name).is_file(), name
    assert "3 obfuscated, 0 skipped" in result.output


def test_node_modules_git_existing_outputs_and_excluded_paths_are_skipped(tmp_path):
    make_tree(tmp_path)
    runner.invoke(cli, [str(tmp_path), "--exclude", "vendor", "--exclude", "**/deep/*"])
    assert not (tmp_path / "node_modules" / "dep" / "index.obs.js").exists()
    assert not (tmp_path / ".git" / "hook.obs.js").exists()
    assert not (tmp_path / "vendor" / "big.obs.js").exists()
    assert not (tmp_path / "lib" / "deep" / "gen.obs.js").exists()
    assert not (tmp_path / "old.obs.obs.js").exists()


def test_unparseable_file_is_skipped_with_its_line_and_the_batch_goes_on(tmp_path):
    make_tree(tmp_path)
    (tmp_path / "lib" / "broken.js").write_text("const fine = 1;\n\nlet x = {;\n")
    result = runner.invoke(cli, [str(tmp_path), "--jobs", "2"])
    assert result.exit_code == 1
    assert "lib/broken.js" in result.output and "line 3" in result.output
    assert "4 obfuscated, 1 skipped" in result.output
    assert not (tmp_path / "lib" / "broken.obs.js").exists()
    assert (tmp_path / "lib" / "shapes.obs.js").is_file()


def test_non_utf8_file_is_skipped(tmp_path):
    (tmp_path / "latin1.js").write_bytes(b"var s = '\xe9t\xe9';\n")
    result = runner.invoke(cli, [str(tmp_path)])
    assert result.exit_code == 1
    assert "not UTF-8" in result.output


@pytest.mark.parametrize(
    "arguments",
    [["/no/such/folder"], ["{dir}", "--preset", "extreme"], ["{dir}", "--jobs", "0"], []],
    ids=["missing-dir", "unknown-preset", "zero-jobs", "no-dir"],
)
def test_usage_errors_exit_two(tmp_path, arguments):
    result = runner.invoke(cli, [arg.format(dir=tmp_path) for arg in arguments])
    assert result.exit_code == 2


def test_empty_folder_exits_zero(tmp_path):
    result = runner.invoke(cli, [str(tmp_path)])
    assert result.exit_code == 0
    assert "no .js files" in result.output


def test_same_seed_gives_identical_bytes_whatever_the_jobs(tmp_path):
    outputs = []
    for jobs in ("1", "2"):
        folder = tmp_path / f"jobs{jobs}"
        folder.mkdir()
        make_tree(folder)
        result = runner.invoke(cli, [str(folder), "--seed", "7", "--preset", "high", "-j", jobs])
        assert result.exit_code == 0, result.output
        outputs.append(
            {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*.obs.js"))}
        )
    assert outputs[0] == outputs[1]
    assert len(outputs[0]) == 5  # four outputs plus the pre-existing old.obs.js


@needs_node
def test_written_output_runs_like_the_original(tmp_path):
    make_tree(tmp_path)
    runner.invoke(cli, [str(tmp_path), "--preset", "high", "--exclude", "vendor"])
    assert run_node(tmp_path / "lib" / "shapes.obs.js") == run_node(tmp_path / "lib" / "shapes.js")


def test_help_documents_the_exit_codes():
    result = runner.invoke(cli, ["--help"])
    assert result.exit_code == 0
    assert "Exit codes" in result.output and "--preset" in result.output


def test_stackyard_jsobf_dir_works_through_the_platform_cli(tmp_path):
    from apps.cli import app

    shutil.copy(CORPUS / "01_closures.js", tmp_path / "a.js")
    result = runner.invoke(app, ["jsobf", str(tmp_path), "--preset", "high"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "a.obs.js").is_file()
