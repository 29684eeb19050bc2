"""ECS task definitions (ACTIVE revisions) with their container environments scanned for
plaintext secrets (attrs as in ``docs/aws-assets.md``).

Only the detector's verdicts (``environment_secrets``) and the variable names are kept; every
``environment`` value is redacted from ``raw``. ``secrets`` entries (references to Secrets Manager
or Parameter Store) are the right way to pass secrets and are kept as they are.
"""

from __future__ import annotations

from posture.collectors.aws.base import Payload, RegionScope, parallel_map, protect_logs, tag_map
from posture.collectors.secrets import Hit, redact_name_values, scan_variables
from posture.model import Asset

TASK_DEFINITION = "AWS::ECS::TaskDefinition"

PERMISSIONS: tuple[str, ...] = ("ecs:ListTaskDefinitions", "ecs:DescribeTaskDefinition")


def collect(scope: RegionScope) -> list[Asset]:
    protect_logs()
    arns = scope.paginate(
        "ecs", "ListTaskDefinitions", "taskDefinitionArns", (TASK_DEFINITION,), status="ACTIVE"
    )
    ordered = sorted(str(a) for a in arns or [])
    described = parallel_map(lambda arn: fetch_task_definition(scope, arn), ordered)
    return [normalize_task_definition(scope, d) for d in described if d is not None]


def fetch_task_definition(scope: RegionScope, arn: str) -> Payload | None:
    """The task definition with its tags; ``None`` (recorded against the ARN) if the call failed:
    the whole definition is unknown, so the error names the type, not a facet."""
    resp = scope.call(
        "ecs",
        "DescribeTaskDefinition",
        (TASK_DEFINITION,),
        arn,
        taskDefinition=arn,
        include=["TAGS"],
    )
    if resp is None:
        return None
    return {**(resp.get("taskDefinition") or {}), "tags": resp.get("tags") or []}


def container_secrets(container: Payload, account: str) -> list[Hit]:
    env = {
        str(e.get("name")): e.get("value")
        for e in container.get("environment") or []
        if e.get("name") is not None
    }
    return [{**hit, "container": container.get("name")} for hit in scan_variables(env, account)]


def normalize_task_definition(scope: RegionScope, task: Payload) -> Asset:
    arn = str(task["taskDefinitionArn"])
    containers = task.get("containerDefinitions") or []
    hits = [h for c in containers for h in container_secrets(c, scope.account)]
    attrs = {
        "arn": arn,
        "family": task.get("family"),
        "revision": task.get("revision"),
        "status": task.get("status"),
        "task_role_arn": task.get("taskRoleArn"),
        "execution_role_arn": task.get("executionRoleArn"),
        "containers": [
            {
                "name": c.get("name"),
                "image": c.get("image"),
                "environment_variable_names": sorted(
                    str(e.get("name")) for e in c.get("environment") or []
                ),
                "secret_references": sorted(str(s.get("name")) for s in c.get("secrets") or []),
            }
            for c in containers
        ],
        "environment_secrets": sorted(
            hits, key=lambda h: (str(h["container"]), str(h["key"]), h["type"])
        ),
    }
    raw = {k: v for k, v in task.items() if k != "tags"}
    raw["containerDefinitions"] = [
        {**c, "environment": redact_name_values(c.get("environment"))} for c in containers
    ]
    name = f"{task.get('family')}:{task.get('revision')}" if task.get("family") else arn
    return scope.asset(arn, TASK_DEFINITION, name, attrs, raw=raw, tags=tag_map(task.get("tags")))
