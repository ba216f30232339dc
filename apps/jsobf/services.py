"""Batch obfuscation of a folder: find the sources, obfuscate each (in parallel), report."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path, PurePosixPath

from apps.jsobf.emitter import Obfuscator
from apps.jsobf.parsing import JsSyntaxError
from apps.jsobf.presets import PRESETS, PresetName

SKIPPED_DIRECTORIES = frozenset({"node_modules", ".git"})
OUTPUT_SUFFIX = ".obs.js"
_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class FileResult:
    """What happened to one source file; `error` is set exactly when it was skipped."""

    source: PurePosixPath
    original_size: int = 0
    obfuscated_size: int = 0
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def obfuscate_source(
    source: str | bytes, preset: PresetName = PresetName.medium, seed: int = 0
) -> str:
    """Obfuscated JavaScript for one program; raises JsSyntaxError if it does not parse."""
    data = source.encode("utf-8") if isinstance(source, str) else source
    data = data.removeprefix(_BOM)
    data.decode("utf-8")
    return Obfuscator(data, PRESETS[preset], seed).run()


def output_path(source: Path) -> Path:
    """`name.js` is written to `name.obs.js` in the same folder."""
    return source.with_name(source.name[: -len(".js")] + OUTPUT_SUFFIX)


def find_sources(root: Path, excludes: Sequence[str] = ()) -> list[PurePosixPath]:
    """Every `*.js` under `root` (relative, sorted), minus outputs, node_modules, .git and
    anything matching an `--exclude` glob (matched against the relative path or the name)."""
    found: list[PurePosixPath] = []
    for folder, subfolders, files in os.walk(root):
        relative = PurePosixPath(Path(folder).relative_to(root).as_posix())
        subfolders[:] = sorted(
            name
            for name in subfolders
            if name not in SKIPPED_DIRECTORIES and not is_excluded(relative / name, excludes)
        )
        for name in sorted(files):
            path = relative / name
            is_source = name.endswith(".js") and not name.endswith(OUTPUT_SUFFIX)
            if is_source and not is_excluded(path, excludes):
                found.append(path)
    return sorted(found)


def is_excluded(path: PurePosixPath, patterns: Sequence[str]) -> bool:
    text = path.as_posix()
    for pattern in patterns:
        bare = pattern.removeprefix("./").rstrip("/")
        candidates = {bare, bare.removeprefix("**/")}
        if any(fnmatchcase(text, glob) or fnmatchcase(path.name, glob) for glob in candidates):
            return True
    return False


def obfuscate_file(
    root: Path, relative: PurePosixPath, preset: PresetName, seed: int
) -> FileResult:
    """Obfuscate `root/relative` into its `.obs.js`; failures become a skipped result."""
    path = root / relative
    try:
        data = path.read_bytes()
    except OSError as exc:
        return FileResult(relative, error=f"cannot read: {exc.strerror or exc}")
    try:
        text = obfuscate_source(data, preset, seed)
    except JsSyntaxError as exc:
        return FileResult(relative, len(data), error=f"parse error at {exc}")
    except UnicodeDecodeError as exc:
        return FileResult(relative, len(data), error=f"not UTF-8 text (byte {exc.start})")
    except RecursionError:
        return FileResult(relative, len(data), error="nesting too deep to obfuscate")
    encoded = text.encode("utf-8")
    try:
        output_path(path).write_bytes(encoded)
    except OSError as exc:
        return FileResult(relative, len(data), error=f"cannot write output: {exc.strerror or exc}")
    return FileResult(relative, len(data), len(encoded))


def obfuscate_tree(
    root: Path,
    sources: Sequence[PurePosixPath],
    preset: PresetName,
    seed: int,
    jobs: int = 1,
    on_result: Callable[[FileResult], None] | None = None,
) -> list[FileResult]:
    """Obfuscate `sources` with `jobs` processes; results sorted by path. Each file's output
    depends only on its bytes, the preset and the seed, so `jobs` never changes a byte."""
    results: list[FileResult] = []

    def record(result: FileResult) -> None:
        results.append(result)
        if on_result is not None:
            on_result(result)

    if jobs <= 1 or len(sources) <= 1:
        for relative in sources:
            record(obfuscate_file(root, relative, preset, seed))
    else:
        with ProcessPoolExecutor(max_workers=min(jobs, len(sources))) as pool:
            futures = [
                pool.submit(obfuscate_file, root, relative, preset, seed) for relative in sources
            ]
            for future in as_completed(futures):
                record(future.result())
    return sorted(results, key=lambda result: result.source)
