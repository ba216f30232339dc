"""`stackyard infra graph|check` and the pieces they draw on."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET

import pytest
from typer.testing import CliRunner

from apps.cli import app
from stacks.config import ConfigError, build_config, config_from_file
from stacks.graph import render_dot, render_svg, render_svg_python, render_text, resource_tree
from stacks.network import subnet_cidrs
from stacks.nodes import user_data

runner = CliRunner()


def test_graph_prints_one_indented_line_per_resource_with_its_type_token(simulations):
    sim = simulations["prod"]
    lines = render_text(resource_tree(sim)).splitlines()
    assert lines[0] == "pulumi:pulumi:Stack  stackyard-prod"
    assert len(lines) == len(sim.resources) + 1
    assert "  stackyard:fleet:Fleet  fleet" in lines
    assert "    aws:lb/loadBalancer:LoadBalancer  fleet-alb" in lines
    assert "    aws:cloudfront/distribution:Distribution  edge-cdn" in lines
    # Edge caches sit under their own site component, one level deeper.
    assert any(
        line.startswith("      aws:ec2/instance:Instance  edge-us-east-1-") for line in lines
    )


def test_cli_graph_reads_the_project_root_from_any_directory(tmp_path, monkeypatch, simulations):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "dev.svg"
    result = runner.invoke(app, ["infra", "graph", "dev", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout == render_text(resource_tree(simulations["dev"]))
    assert ET.fromstring(out.read_text()).tag.endswith("svg")


def test_cli_graph_names_the_missing_stack_file():
    result = runner.invoke(app, ["infra", "graph", "qa"])
    assert result.exit_code == 2
    assert "Pulumi.qa.yaml" in result.output


def test_builtin_svg_writer_draws_every_resource(simulations):
    tree = resource_tree(simulations["staging"])
    svg = ET.fromstring(render_svg_python(tree))
    texts = svg.findall(".//{http://www.w3.org/2000/svg}text")
    assert len(texts) == len(simulations["staging"].resources) + 1


@pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz `dot` is not installed")
def test_dot_draws_the_tree_when_graphviz_is_installed(simulations):
    tree = resource_tree(simulations["dev"])
    svg, how = render_svg(tree)
    assert how == "graphviz dot"
    assert "aws:lb/loadBalancer:LoadBalancer" in svg
    assert render_dot(tree).count("->") == len(simulations["dev"].resources)


def test_infra_is_a_cli_only_app():
    import importlib

    # No `router`: gateway.available_apps() skips it, `stackyard infra ...` mounts its `cli`.
    assert not hasattr(importlib.import_module("apps.infra"), "router")
    result = runner.invoke(app, ["infra", "--help"])
    assert result.exit_code == 0
    for command in ("graph", "check", "smoke"):
        assert command in result.output


def test_config_rejects_impossible_sizes_and_zone_counts():
    values = {"app": {"min": 3, "desired": 1, "max": 2}}
    with pytest.raises(ConfigError, match="min <= desired <= max"):
        build_config("dev", "eu-west-1", values.get)
    with pytest.raises(ConfigError, match="availabilityZones"):
        build_config("dev", "eu-west-1", {"network": {"availabilityZones": 5}}.get)


def test_subnets_are_carved_without_overlap():
    cidrs = subnet_cidrs("10.30.0.0/16", 3)
    assert len(set(cidrs)) == 9
    with pytest.raises(ValueError, match="too small"):
        subnet_cidrs("10.0.0.0/19", 2)


def test_user_data_carries_the_node_identity_and_no_secret():
    cfg = config_from_file("prod")
    script = user_data(cfg, "app", ("identity",))
    assert "STACKYARD_APPS=identity" in script
    assert "STACKYARD_ROLE=app" in script
    assert "redis" not in script.lower() and "password" not in script.lower()


def test_cli_check_exits_1_and_names_each_violation(simulations, monkeypatch):
    import copy

    import stacks.simulate

    broken = copy.deepcopy(simulations["dev"])
    group = next(r for r in broken.resources if r.type == "aws:lb/targetGroup:TargetGroup")
    group.inputs["healthCheck"]["path"] = "/"
    monkeypatch.setattr(stacks.simulate, "simulate_in_subprocess", lambda env: broken)
    result = runner.invoke(app, ["infra", "check", "dev"])
    assert result.exit_code == 1
    assert "violation: target group fleet-main checks '/'" in result.output
    monkeypatch.setattr(stacks.simulate, "simulate_in_subprocess", lambda env: simulations["dev"])
    result = runner.invoke(app, ["infra", "check", "dev"])
    assert result.exit_code == 0
    assert "every policy holds" in result.output
