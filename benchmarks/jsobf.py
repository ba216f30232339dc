"""jsobf: what obfuscation costs, as ratios to the original program in the same run.

For every corpus program and preset: size = obfuscated bytes / original bytes; runtime =
obfuscated / original time measured inside node (a --require hook times from just before the
script loads, so it includes parsing the bigger file, to process exit; node's own start-up
is left out). Each variant runs `--repeat` times, best time kept. The two programs that take a
scale argument (29_matrix, 30_text_stats) also run at `--scale` as CPU-bound workloads. The
anchor, javascript-obfuscator, documents 15-80% slower output. Usage:

    .venv/bin/python benchmarks/jsobf.py --repeat 3 --scale 1000
"""

from __future__ import annotations

import math
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from apps.jsobf.presets import PresetName
from apps.jsobf.services import obfuscate_source

console = Console()
CORPUS = Path(__file__).resolve().parent.parent / "tests" / "apps" / "jsobf" / "corpus"
WORKLOADS = ("29_matrix.js", "30_text_stats.js")
HOOK = (
    "const started = process.hrtime.bigint();"
    "process.on('exit', () => process.stderr.write("
    "'JSOBF_NS ' + (process.hrtime.bigint() - started) + '\\n'));"
)


def run_seconds(hook: Path, program: Path, arguments: list[str]) -> tuple[float, str]:
    done = subprocess.run(
        ["node", "--require", str(hook), str(program), *arguments],
        capture_output=True,
        text=True,
        timeout=600,
    )
    marker = [line for line in done.stderr.splitlines() if line.startswith("JSOBF_NS ")]
    if done.returncode != 0 or not marker:
        raise SystemExit(f"{program.name} failed: {done.stderr[-500:]}")
    return int(marker[-1].split()[1]) / 1e9, done.stdout


def best_of(repeat: int, hook: Path, program: Path, arguments: list[str]) -> tuple[float, str]:
    runs = [run_seconds(hook, program, arguments) for _ in range(repeat)]
    return min(seconds for seconds, _ in runs), runs[0][1]


def main(
    repeat: int = typer.Option(3, min=1, help="Runs per variant; the fastest is kept."),
    scale: int = typer.Option(1000, min=1, help="Scale argument of the workload programs."),
    seed: int = typer.Option(1),
) -> None:
    programs = sorted(p for p in CORPUS.glob("*.js") if not p.name.endswith(".obs.js"))
    work = Path(tempfile.mkdtemp(prefix="jsobf-bench-"))
    hook = work / "hook.js"
    hook.write_text(HOOK)
    variants: dict[str, dict[str, Path]] = {"original": {p.name: p for p in programs}}
    obfuscation_seconds: dict[str, float] = {}
    for preset in PresetName:
        began = time.perf_counter()
        variants[preset.value] = {}
        for program in programs:
            target = work / f"{program.stem}.{preset.value}.js"
            target.write_text(obfuscate_source(program.read_bytes(), preset, seed))
            variants[preset.value][program.name] = target
        obfuscation_seconds[preset.value] = time.perf_counter() - began
    corpus_kb = sum(p.stat().st_size for p in programs) / 1024

    times: dict[str, dict[str, float]] = {name: {} for name in variants}
    heavy: dict[str, dict[str, float]] = {name: {} for name in variants}
    with console.status("running the corpus under node") as status:
        for program in programs:
            status.update(f"running {program.name}")
            expected = None
            for name, files in variants.items():
                seconds, stdout = best_of(repeat, hook, files[program.name], [])
                expected = stdout if expected is None else expected
                if stdout != expected:
                    raise SystemExit(f"{program.name} at {name} printed something else")
                times[name][program.name] = seconds
                if program.name in WORKLOADS:
                    heavy[name][program.name] = best_of(
                        repeat, hook, files[program.name], [str(scale)]
                    )[0]

    table = Table(
        "preset",
        "size ratio",
        "runtime ratio (corpus geomean)",
        "runtime ratio (corpus total)",
        *(f"runtime ratio {w} @{scale}" for w in WORKLOADS),
        "obfuscation KB/s",
        title=f"jsobf cost vs original ({len(programs)} programs, best of {repeat})",
    )
    original_size = sum(p.stat().st_size for p in programs)
    for preset in PresetName:
        name = preset.value
        size = sum(f.stat().st_size for f in variants[name].values()) / original_size
        ratios = [times[name][p] / times["original"][p] for p in times["original"]]
        total = sum(times[name].values()) / sum(times["original"].values())
        workload = [heavy[name][w] / heavy["original"][w] for w in WORKLOADS]
        table.add_row(
            name,
            f"{size:.2f}",
            f"{math.exp(statistics.fmean(math.log(r) for r in ratios)):.2f}",
            f"{total:.2f}",
            *(f"{ratio:.2f}" for ratio in workload),
            f"{corpus_kb / obfuscation_seconds[name]:.0f}",
        )
    console.print(table)
    console.print(
        f"original corpus: {original_size} bytes, "
        f"{sum(times['original'].values()):.2f} s in node; workloads at scale {scale}: "
        + ", ".join(f"{w} {heavy['original'][w]:.2f} s" for w in WORKLOADS),
        highlight=False,
    )


if __name__ == "__main__":
    typer.run(main)
