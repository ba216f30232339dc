"""Configure an environment's nodes: `stackyard deploy ENV` runs the pyinfra roles in `roles/`
over the inventory built from that environment's stack outputs.

A command-line app; it serves no HTTP routes.
"""
