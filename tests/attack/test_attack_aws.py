"""The AWS join (posture.attack.aws): instance → instance profile → role → administrator, and
the network half on every port. Each identity state on a small estate: admin by policy, by
escalation, conditional, latent, none, unknown (profile or role not collected, listing failed),
no credentials (the role does not trust EC2), gated (metadata service off)."""

from __future__ import annotations

from typing import Any

from support.aws import collection_error
from support.aws_net import PRIVATE_ROUTES, estate, replaced, sg_rule
from support.iam import ARN, allow, instance_profile, role, service, trust

from posture.attack.aws import INSTANCE_PROFILE, AwsAttack
from posture.attack.path import AttackPath, Power, Reached
from posture.graph.aws.reach import AwsReach
from posture.iam.graph import build_identity_graph
from posture.iam.latent import LatentAnalysis
from posture.model import Asset, Inventory

EC2 = "ec2.amazonaws.com"
PROFILE = f"{ARN}:instance-profile/web"
WEB_443 = (sg_rule(443, 443),)
UNDECIDABLE = {"StringEquals": {"aws:RequestTag/team": "x"}}


def host_inventory(*iam: Asset, ingress: Any = WEB_443, profile: str | None = PROFILE,
                   errors: tuple[Any, ...] = (), **knobs: Any) -> Inventory:
    inv = estate(ingress=ingress, extra=iam, errors=errors, **knobs)
    return replaced(inv, "AWS::EC2::Instance", iam_instance_profile_arn=profile)


def attack_of(inv: Inventory) -> AttackPath:
    graph = build_identity_graph(inv)
    attack = AwsAttack.of(AwsReach(inv), graph, LatentAnalysis(graph))
    (host,) = attack.hosts()
    return attack.path(host)


def web(*statements: dict[str, Any], trusted: dict[str, Any] | None = None) -> tuple[Asset, ...]:
    return (instance_profile("web", "web"), role("web", trusted or service(EC2), *statements))


def test_admin_by_policy_joins_the_exposed_port() -> None:
    path = attack_of(host_inventory(*web(allow("*"))))
    assert path.identity.state is Power.ADMIN and not path.identity.gate
    assert path.network.state is Reached.EXPOSED and path.network.ports == "tcp/443"
    assert path.summary() == "internet -> tcp/443 -> i-1 -> role web -> administrator"
    assert [(h["kind"], h["id"], h["layer"]) for h in path.hops()][-5:] == [
        ("port", "tcp/443", "network"),
        ("interface", "eni-1", "network"),
        ("asset", "i-1", "network"),
        ("role", "web", "identity"),
        ("", "administrator", "identity"),
    ]
    assert not any("return" in h["kind"] for h in path.hops())  # replies stay in `paths`
    evidence = path.evidence()
    (step,) = evidence["identity"]["steps"]
    assert step["technique"] == "admin-policy" and step["grants"][0]["allowed_by"]
    assert evidence["paths"][0]["port"] == 443 and evidence["identity"]["role"].endswith("/web")


def test_admin_by_escalation_names_every_step() -> None:
    inv = host_inventory(*web(allow(["iam:PassRole", "ec2:RunInstances"])),
                         role("ops", service(EC2), allow("*")))
    path = attack_of(inv)
    assert path.identity.state is Power.ADMIN
    assert path.summary() == "internet -> tcp/443 -> i-1 -> role web -> role ops -> administrator"
    assert [h["rule"] for h in path.identity.hops] == [
        "instance profile web", "iam:PassRole+ec2:RunInstances", "admin-policy"
    ]


def test_conditional_latent_and_none() -> None:
    conditional = attack_of(host_inventory(*web(allow("*", Condition=UNDECIDABLE))))
    assert conditional.identity.state is Power.CONDITIONAL
    latent = attack_of(host_inventory(*web(allow(["iam:PassRole", "ec2:RunInstances"]))))
    assert latent.identity.state is Power.LATENT
    assert [h["kind"] for h in latent.identity.hops] == ["role", "missing", ""]
    assert latent.identity.text.startswith(f"no role trusting {EC2} that web can pass")
    read_only = attack_of(host_inventory(*web(allow(["s3:GetObject", "ec2:Describe*"]))))
    assert read_only.identity.state is Power.NONE
    # a host whose identity has no power is not swept for ports at all
    assert read_only.network.state is Reached.CLOSED and "not evaluated" in read_only.network.why
    nothing = attack_of(host_inventory(profile=None))
    assert nothing.identity.state is Power.NONE
    assert nothing.identity.text == "the instance has no instance profile"


def test_a_role_that_does_not_trust_ec2_gives_the_instance_nothing() -> None:
    lambda_role = web(allow("*"), trusted=trust({"Service": "lambda.amazonaws.com"}))
    path = attack_of(host_inventory(*lambda_role))
    assert path.identity.state is Power.NONE and EC2 in path.identity.text


def test_collection_gaps_are_unknown() -> None:
    role_only = (role("web", service(EC2), allow("*")),)
    missing = attack_of(host_inventory(*role_only))
    assert missing.identity.state is Power.UNKNOWN
    assert missing.identity.text == "instance profile web is not in the inventory"
    error = collection_error("iam", "ListInstanceProfiles", (INSTANCE_PROFILE,), region="")
    unlisted = attack_of(host_inventory(*role_only, errors=(error,)))
    assert unlisted.identity.state is Power.UNKNOWN
    assert "could not be listed" in unlisted.identity.text
    no_role = attack_of(host_inventory(instance_profile("web", "web")))
    assert no_role.identity.state is Power.UNKNOWN and "role web" in no_role.identity.text
    # the network half is still computed: the finding can say what it cannot decide
    assert missing.network.state is Reached.EXPOSED


def test_metadata_service_off_is_the_gate() -> None:
    inv = host_inventory(*web(allow("*")))
    gated = replaced(inv, "AWS::EC2::Instance", http_endpoint="disabled")
    path = attack_of(gated)
    assert path.identity.state is Power.ADMIN and "metadata service is turned off" in \
        path.identity.gate


def test_network_half_closed_and_why() -> None:
    private = attack_of(host_inventory(*web(allow("*")), public_ip=None))
    assert private.network.state is Reached.CLOSED and private.identity.state is Power.ADMIN
    assert private.network.evidence["latent"][0]["port"] == 443  # the group is open
    unrouted = attack_of(host_inventory(*web(allow("*")), routes=PRIVATE_ROUTES))
    assert unrouted.network.state is Reached.CLOSED and "route" in unrouted.network.why
    office_ssh = (sg_rule(22, 22, "203.0.113.0/24"),)
    office = attack_of(host_inventory(*web(allow("*")), ingress=office_ssh))
    assert office.network.state is Reached.CLOSED and "allow-listed" in office.network.why

