"""Tests of the Pulumi program (under mocks), its policy, the plan graph and the moto smoke."""
