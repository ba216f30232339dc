"""`python -m apps.freelance` runs the `freelance` console script."""

from apps.freelance.cli import main

main()
