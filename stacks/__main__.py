"""`pulumi up` runs this file (Pulumi.yaml: `main: stacks/`)."""

import sys
from pathlib import Path

# The engine runs this directory as a script; the project root makes `stacks` importable.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from stacks.program import main

main()
