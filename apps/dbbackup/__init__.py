"""Consistent, parallel backups of PostgreSQL, MySQL/MariaDB and SQLite databases, and restores.

A command-line app (`stackyard dbbackup backup|restore|verify`); it serves no HTTP routes.
Each backup is a folder: one DDL file per table, data files streamed in chunks, and a
`manifest.json` with the server version, the snapshot time, row counts and SHA-256 checksums.
"""
