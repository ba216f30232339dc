"""pyinfra roles for the nodes `stacks/` provisions: one `@deploy` per node kind.

`ROLES` maps a role name to its deploy function; `roles.inventories` says which host runs which
roles, from the stack outputs and `group_data/`.
"""
