"""JS obfuscator: rewrites every `name.js` under a folder into a working `name.obs.js`.

A command-line app only (no HTTP routes): `stackyard jsobf DIR --preset high`. Parsing is done
by tree-sitter-javascript; every transformation (renaming, string array, number expressions,
dead code, control-flow flattening, compaction) is written here.
"""
