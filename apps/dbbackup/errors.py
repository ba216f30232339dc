"""What can go wrong in a backup or restore, each with the exit code scripts can rely on."""

from __future__ import annotations


class BackupFailure(Exception):
    """Base of every expected failure: printed as one line, never as a traceback."""

    exit_code = 1


class DatabaseFailure(BackupFailure):
    """The server reported an error while we read or wrote (permissions, DDL, data)."""

    exit_code = 1


class InvalidRequest(BackupFailure):
    """Bad input: an unknown engine, a missing --db, a glob that selects nothing."""

    exit_code = 2


class ConnectionFailure(BackupFailure):
    """The server is unreachable, refused the login, or the database does not exist."""

    exit_code = 3


class BackupRejected(BackupFailure):
    """The backup folder is incomplete, tampered with, or for another engine."""

    exit_code = 4


class DestinationRefused(BackupFailure):
    """We would overwrite something: a non-empty --dest, an existing target database."""

    exit_code = 5
