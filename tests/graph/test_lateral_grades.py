"""The grades of lateral administrative access (posture.graph.lateral), one row per rule of the
table in docs/reachability.md, and the grouping once per admitting resource."""

from __future__ import annotations

import pytest

from posture.graph.lateral import (
    AdmittingRule,
    Env,
    Party,
    Reason,
    by_subject,
    environment,
    grade,
    group_evidence,
    group_message,
    offence,
)
from posture.model import Severity

KEYS = ("Environment", "env")
PROD_VALUES = ("prod", "production")
PROD = environment([("vpc-p", {"Environment": "Prod"})], KEYS, PROD_VALUES)
DEV = environment([("vpc-d", {"env": "dev"})], KEYS, PROD_VALUES)
TARGET = Party("worker", "uid-w", "vpc-p", "subnet-p", PROD)


def test_environment_from_the_most_specific_tag() -> None:
    assert (PROD.kind, PROD.tag, PROD.owner) == ("production", "Environment=Prod", "vpc-p")
    host_first = environment([("h", {"env": "test"}), ("vpc-p", {"Environment": "prod"})],
                             KEYS, PROD_VALUES)
    assert host_first.kind == "non-production" and host_first.owner == "h"
    assert environment([("h", {"Name": "x"})], KEYS, PROD_VALUES) == Env()


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (Party("internet via lb", internet="through load balancer lb"),
         (Severity.HIGH, Reason.INTERNET)),
        (Party("web", "u", "vpc-p", "subnet-p", PROD, exposed="tcp/443 on its public address"),
         (Severity.HIGH, Reason.EXPOSED)),
        (Party("dev-box", "u", "vpc-d", "subnet-d", DEV), (Severity.HIGH, Reason.ENVIRONMENT)),
        (Party("test-box", "u", "vpc-p", "subnet-q", DEV), (Severity.HIGH, Reason.ENVIRONMENT)),
        (Party("peer", "u", "vpc-x", "subnet-x", Env()), (Severity.HIGH, Reason.NETWORK)),
        (Party("peer", "u", "vpc-x", "subnet-x", PROD), (Severity.LOW, Reason.TIER)),
        (Party("next", "u", "vpc-p", "subnet-p", Env()), (Severity.LOW, Reason.TIER)),
        (Party("other", "u", "vpc-p", "subnet-q", Env()), (Severity.LOW, Reason.TIER)),
        (Party("unsure", "u", "vpc-p", "subnet-p", PROD, exposure_unknown="tag"),
         (Severity.LOW, Reason.TIER)),
    ],
    ids=["internet", "exposed", "dev-peer", "dev-host-same-vpc", "untagged-peer",
         "prod-peer", "same-subnet", "same-vpc", "exposure-undecided"],
)
def test_grades(source: Party, expected: tuple[Severity, Reason]) -> None:
    assert grade(source, TARGET, "vpc-peering pcx-1")[:2] == expected


def test_one_group_per_admitting_resource_at_its_worst_grade() -> None:
    rule = AdmittingRule("sg-uid", "sg-w allow tcp/22 from 10.0.0.0/8")
    low = offence(Party("next", "u1", "vpc-p", "subnet-p"), TARGET, 22, rule,
                  lambda: {"summary": "next -> worker"})
    high = offence(Party("dev-box", "u2", "vpc-d", "subnet-d", DEV), TARGET, 22, rule,
                   lambda: {"summary": "dev-box -> pcx-1 -> worker"}, "vpc-peering pcx-1")
    (group,) = by_subject([low, high])
    assert group.severity is Severity.HIGH and group.worst is high
    message = group_message(group, "administrative connections", "private host(s)")
    assert message.startswith("rule sg-w allow tcp/22 from 10.0.0.0/8 admits administrative "
                              "connections from 2 non-bastion source(s) to 1 private host(s)")
    assert message.endswith("path: dev-box -> pcx-1 -> worker")
    evidence = group_evidence(group, {"uid-w": ["a prefix list"], "other": ["x"]})
    assert evidence["affected"] == ["worker"] and evidence["undecided"] == {
        "worker": ["a prefix list"]
    }
    assert [s["severity"] for s in evidence["sources"]] == ["high", "low"]
