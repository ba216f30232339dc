"""Run the Pulumi program under `pulumi.runtime.set_mocks` and record what it would create.

No CLI, plugin or AWS account is needed: the mocks answer the provider's invokes with plausible
values and every registration (type token, name, parent, inputs) is recorded. One environment
per process (Pulumi's runtime settings are global), so `simulate_in_subprocess` is what tests
and `stackyard infra graph` call; `python -m stacks.simulate ENV` prints the JSON.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from typing import Any

from stacks.config import PROJECT, PROJECT_ROOT, SECRET_KEYS, read_stack_file

ACCOUNT = "123456789012"
SIMULATED_SECRET = "simulated-secret-for-mocks-only-0000"
SECRET_PLACEHOLDER = "[secret]"
# How the Pulumi wire format marks a secret value (pulumi.runtime.rpc._special_sig_key).
SECRET_SIG = "4dabf18193072939515e22adb298388d"
SECRET_VALUE_SIG = "1b47061264138c4ac30d75fd1eb44270"


@dataclass
class RecordedResource:
    """One resource the program registered."""

    urn: str
    type: str
    name: str
    parent: str
    custom: bool
    id: str
    inputs: dict[str, Any]


@dataclass
class Simulation:
    """Everything a run under mocks produced."""

    env: str
    resources: list[RecordedResource]
    outputs: dict[str, Any]
    secret_outputs: list[str] = field(default_factory=list)

    def of_type(self, token: str) -> list[RecordedResource]:
        return [r for r in self.resources if r.type == token]

    def by_id(self) -> dict[str, RecordedResource]:
        return {r.id: r for r in self.resources if r.id}

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Simulation:
        raw = json.loads(text)
        resources = [RecordedResource(**r) for r in raw.pop("resources")]
        return cls(resources=resources, **raw)


def _plain(value: Any) -> Any:
    """Inputs as JSON: resource references and unknowns become strings."""
    if isinstance(value, dict):
        if value.get(SECRET_SIG) == SECRET_VALUE_SIG:
            return SECRET_PLACEHOLDER  # recordings never carry secret values
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _digest(text: str, length: int = 8) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def _address(text: str, first: int) -> str:
    digest = hashlib.sha256(text.encode()).digest()
    return f"{first}.{digest[0]}.{digest[1]}.{max(digest[2], 4)}"


def run(env: str, overrides: dict[str, Any] | None = None) -> Simulation:
    """Run the program for Pulumi.<env>.yaml (plus `overrides`) in this process, once."""
    import pulumi
    from pulumi.runtime import mocks as pulumi_mocks
    from pulumi.runtime.settings import SETTINGS
    from pulumi.runtime.stack import get_root_resource, run_pulumi_func
    from pulumi.runtime.sync_await import _sync_await

    raw = {**read_stack_file(env), **(overrides or {})}
    region = str(raw.get("aws:region", "us-east-1"))
    records: list[RecordedResource] = []

    class Mocks(pulumi_mocks.Mocks):
        """Plausible provider answers, deterministic for a given name."""

        def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str, dict]:
            state = dict(args.inputs)
            name, token = args.name, args.typ
            service = token.split(":")[1].split("/")[0]
            rid = f"{name}-{_digest(token + name)}"
            state.setdefault("arn", f"arn:aws:{service}:{region}:{ACCOUNT}:{name}")
            state.setdefault("name", name)
            if token == "aws:lb/loadBalancer:LoadBalancer":
                state.update(
                    dnsName=f"{name}-{_digest(name)}.{region}.elb.amazonaws.com",
                    arnSuffix=f"app/{name}/{_digest(name, 16)}",
                    zoneId="Z32O12XQLNTSW2",
                )
            elif token == "aws:cloudfront/distribution:Distribution":
                state["domainName"] = f"d{_digest(name, 13)}.cloudfront.net"
            elif token == "aws:rds/instance:Instance":
                address = f"{name}.{_digest(name, 12)}.{region}.rds.amazonaws.com"
                state.update(
                    address=address,
                    endpoint=f"{address}:5432",
                    identifier=name,
                    masterUserSecrets=[
                        {"secretArn": f"arn:aws:secretsmanager:{region}:{ACCOUNT}:secret:{name}"}
                    ],
                )
            elif token == "aws:elasticache/replicationGroup:ReplicationGroup":
                state["primaryEndpointAddress"] = (
                    f"master.{name}.{_digest(name, 6)}.cache.amazonaws.com"
                )
            elif token == "aws:ec2/instance:Instance":
                state["privateIp"] = _address(name, 10)
                state["publicIp"] = _address(name, 54) if "edge" in name else ""
            elif token == "aws:acm/certificate:Certificate":
                domain = state.get("domainName", "")
                state["domainValidationOptions"] = [
                    {
                        "domainName": domain,
                        "resourceRecordName": f"_{_digest(name)}.{domain}.",
                        "resourceRecordType": "CNAME",
                        "resourceRecordValue": f"_{_digest(domain)}.acm-validations.aws.",
                    }
                ]
            elif token == "aws:s3/bucket:Bucket":
                bucket = f"{name}-{_digest(name)}"
                state.update(
                    bucket=bucket, bucketRegionalDomainName=f"{bucket}.s3.{region}.amazonaws.com"
                )
            elif token == "aws:route53/record:Record":
                state["fqdn"] = state.get("name", name)
            elif token == "aws:amp/workspace:Workspace":
                state["prometheusEndpoint"] = (
                    f"https://aps-workspaces.{region}.amazonaws.com/workspaces/ws-{_digest(name)}/"
                )
            return rid, state

        def call(self, args: pulumi_mocks.MockCallArgs) -> tuple[dict, list]:
            if args.token == "aws:index/getAvailabilityZones:getAvailabilityZones":
                names = [f"{region}{letter}" for letter in "abc"]
                return {"names": names, "zoneIds": names, "id": region}, []
            if args.token == "aws:ec2/getAmi:getAmi":
                return {"id": "ami-0simulated", "imageId": "ami-0simulated"}, []
            if args.token == "aws:ec2/getInstances:getInstances":
                wanted = args.args.get("instanceTags", {})
                ids = [
                    f"i-{_digest(f'{record.name}-{index}', 17)}"
                    for record in records
                    if record.type == "aws:autoscaling/group:Group"
                    and all(
                        {"key": k, "value": v, "propagateAtLaunch": True}
                        in record.inputs.get("tags", [])
                        for k, v in wanted.items()
                    )
                    for index in range(int(record.inputs.get("desiredCapacity", 0)))
                ]
                return {
                    "ids": ids,
                    "privateIps": [_address(i, 10) for i in ids],
                    "publicIps": [],
                    "id": region,
                }, []
            return {}, []

    class RecordingMonitor(pulumi_mocks.MockMonitor):
        def RegisterResource(self, request: Any) -> Any:
            response = super().RegisterResource(request)
            if request.type != "pulumi:pulumi:Stack":
                inputs = pulumi.runtime.rpc.deserialize_properties(request.object)
                records.append(
                    RecordedResource(
                        urn=response.urn,
                        type=request.type,
                        name=request.name,
                        parent=request.parent,
                        custom=bool(request.custom),
                        id=response.id,
                        inputs=_plain(inputs),
                    )
                )
            return response

    mocks = Mocks()
    pulumi.runtime.set_mocks(
        mocks, project=PROJECT, stack=env, preview=False, monitor=RecordingMonitor(mocks)
    )
    config: dict[str, str] = {}
    for key, value in raw.items():
        if isinstance(value, dict) and "secure" in value:
            continue  # ciphertext of `pulumi config set --secret`: not readable without the CLI
        config[key] = value if isinstance(value, str) else json.dumps(value)
    secret_keys = [f"{PROJECT}:{key}" for key in SECRET_KEYS]
    for key in secret_keys:
        config.setdefault(key, SIMULATED_SECRET)
    pulumi.runtime.set_all_config(config, secret_keys)

    from stacks import program

    collected: dict[str, Any] = {}

    def body() -> Any:
        program.main()
        stack = get_root_resource()
        exported = dict(getattr(stack, "outputs", {}) or {})

        async def resolve() -> None:
            for key, value in exported.items():
                output = pulumi.Output.from_input(value)
                collected[key] = (await output.future(), await output.is_secret())

        return resolve()

    SETTINGS.rpc_manager.clear()
    SETTINGS.outputs.clear()
    _sync_await(run_pulumi_func(lambda: _sync_await(body())))
    return Simulation(
        env=env,
        resources=records,
        outputs={key: _plain(value) for key, (value, _) in collected.items()},
        secret_outputs=sorted(key for key, (_, secret) in collected.items() if secret),
    )


def simulate_in_subprocess(env: str, overrides: dict[str, Any] | None = None) -> Simulation:
    """`run` in a fresh interpreter, so several environments never share runtime state."""
    command = [sys.executable, "-m", "stacks.simulate", env]
    if overrides:
        command += ["--overrides", json.dumps(overrides)]
    result = subprocess.run(
        command, cwd=PROJECT_ROOT, capture_output=True, text=True, check=False, timeout=300
    )
    if result.returncode != 0:
        raise RuntimeError(f"simulating {env} failed:\n{result.stderr.strip()}")
    return Simulation.from_json(result.stdout)


def main(argv: list[str]) -> int:
    env, overrides = argv[0], {}
    if len(argv) >= 3 and argv[1] == "--overrides":
        overrides = json.loads(argv[2])
    print(run(env, overrides).to_json())
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
