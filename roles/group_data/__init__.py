"""Data shared by every host (`all.py`) and per environment (`<env>.py`).

Each file is plain module-level assignments, pyinfra's group_data convention; names starting
with `_` are private to the file. A host's data is all < environment < the host's own entry
in the stack outputs.
"""
