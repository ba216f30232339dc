"""Infrastructure commands: the Pulumi plan without an AWS account, its policy, a moto smoke test.

Command-line only (no `router`): `stackyard infra graph|check|smoke`.
"""
