"""`stackyard jsobf DIR`: obfuscate every .js file under DIR into a .obs.js beside it.

Exit codes: 0 every file was obfuscated (or there was none); 1 at least one file was skipped
(it does not parse, is not UTF-8, or cannot be read or written); 2 usage error.
"""

from __future__ import annotations

import os
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from apps.jsobf.presets import PresetName
from apps.jsobf.services import FileResult, find_sources, obfuscate_tree, output_path

COMMAND_NAME = "jsobf"

cli = typer.Typer(
    help="Obfuscate every .js file under a folder into name.obs.js.",
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err = Console(stderr=True)


@cli.command()
def jsobf(
    directory: Path = typer.Argument(
        ...,
        exists=True,
        file_okay=False,
        dir_okay=True,
        readable=True,
        metavar="DIR",
        help="Folder searched recursively (node_modules, .git and *.obs.js are skipped).",
    ),
    exclude: list[str] = typer.Option(
        [],
        "--exclude",
        metavar="GLOB",
        help="Skip files or folders whose relative path or name matches (repeatable).",
    ),
    jobs: int = typer.Option(
        os.cpu_count() or 1, "--jobs", "-j", min=1, max=256, help="Files obfuscated in parallel."
    ),
    seed: int = typer.Option(
        0, "--seed", help="Randomness seed: the same seed gives byte-identical output."
    ),
    preset: PresetName = typer.Option(
        PresetName.medium,
        "--preset",
        case_sensitive=False,
        help="low: rename + string array + compact; medium: + encoded strings, number "
        "expressions, dead code; high: + control-flow flattening.",
    ),
) -> None:
    """Obfuscate every .js file under DIR, writing name.obs.js beside each name.js.

    Files that do not parse are skipped with the parse error and its line; the batch goes on.
    Exit codes: 0 all obfuscated, 1 some file skipped, 2 usage error.
    """
    root = directory.resolve()
    sources = find_sources(root, exclude)
    if not sources:
        console.print(f"no .js files under {directory}", highlight=False)
        return
    with Progress(
        TextColumn("[bold]obfuscating[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
        console=err,
        transient=True,
    ) as progress:
        task = progress.add_task("", total=len(sources))

        def advance(result: FileResult) -> None:
            progress.update(task, advance=1, description=str(result.source))

        results = obfuscate_tree(root, sources, preset, seed, jobs, advance)
    console.print(_report(results))
    skipped = [result for result in results if not result.ok]
    done = len(results) - len(skipped)
    summary = f"{done} obfuscated, {len(skipped)} skipped (preset {preset.value}, seed {seed})"
    console.print(summary, highlight=False)
    if skipped:
        raise typer.Exit(1)


def _report(results: list[FileResult]) -> Table:
    table = Table("file", "result", "size", box=None, pad_edge=False)
    for result in results:
        if result.ok:
            growth = result.obfuscated_size / result.original_size if result.original_size else 0
            table.add_row(
                str(result.source),
                f"[green]ok[/] → {output_path(Path(result.source.as_posix()))}",
                f"{result.original_size} → {result.obfuscated_size} B (x{growth:.2f})",
            )
        else:
            table.add_row(str(result.source), f"[red]skipped[/]: {result.error}", "")
    return table
