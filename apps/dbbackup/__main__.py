"""`python -m apps.dbbackup`: the dbbackup CLI alone, without loading every other app."""

from apps.dbbackup.cli import cli

cli(prog_name="dbbackup")
