"""Bastions, tagged, by intent (security-group reference, name) and inferred: a bastion open to
the world is its own finding but not an admin exposure, private hosts reached only through it
pass, and an untagged office-only hop into a private tier is inferred as one."""

from __future__ import annotations

from support.aws_net import (
    ADMIN,
    BASTION,
    BASTION_UID,
    FROM_BASTION,
    FROM_BASTION_IP,
    OFFICE_SSH,
    SSH_WORLD,
    VIA_BASTION,
    WORKER_UID,
    arn,
    bastion_estate,
    sg_rule,
    status,
)
from support.checks import by_uid, run_one
from support.lateral import sources, verdict

from posture.model import Status

# -- bastions -----------------------------------------------------------------------------------


def test_bastion_open_to_the_world_is_a_finding_but_not_an_admin_exposure() -> None:
    inv = bastion_estate(SSH_WORLD, [sg_rule(22, 22, "sg-b", kind="security_group")])
    assert status(BASTION, inv, BASTION_UID).status == Status.FAIL
    assert status(ADMIN, inv, BASTION_UID).status == Status.PASS


def test_bastion_from_office_range_passes() -> None:
    inv = bastion_estate(
        [sg_rule(22, 22, "203.0.113.0/24")], [sg_rule(22, 22, "sg-b", kind="security_group")]
    )
    finding = status(BASTION, inv, BASTION_UID)
    assert finding.status == Status.PASS and "allow-listed" in finding.message


def test_private_host_reached_only_from_the_bastion_passes() -> None:
    inv = bastion_estate(SSH_WORLD, [sg_rule(22, 22, "sg-b", kind="security_group")])
    assert status(VIA_BASTION, inv, WORKER_UID).status == Status.PASS


def test_private_host_reached_from_other_hosts_fails() -> None:
    inv = bastion_estate(SSH_WORLD, [sg_rule(22, 22, "10.0.0.0/16")])
    finding = verdict(VIA_BASTION, inv, WORKER_UID)
    assert finding.status == Status.FAIL
    assert finding.resource_uid == arn("security-group", "sg-w")  # the rule's group, not the host
    assert finding.evidence["paths"][0]["source"] == "i-1"
    assert sources(finding) == {"i-1": "high"}  # i-1 admits every port from the world


def test_bastion_tag_is_configurable() -> None:
    inv = bastion_estate(SSH_WORLD, FROM_BASTION_IP)
    finding = status(ADMIN, inv, BASTION_UID, bastion_tags=("Role=jump",))
    assert finding.status == Status.FAIL


# -- inferred bastions: the only internet-reachable admin hop into a private tier ------------


def test_untagged_office_only_bastion_is_inferred_and_its_tier_passes() -> None:
    inv = bastion_estate(OFFICE_SSH, FROM_BASTION_IP, tags={})
    worker = status(VIA_BASTION, inv, WORKER_UID)
    assert worker.status == Status.PASS
    bastion = status(BASTION, inv, BASTION_UID)
    assert bastion.status == Status.PASS
    assert bastion.evidence["bastion"] == (
        "inferred: only internet-exposed admin hop into subnet(s) subnet-2"
    )


def test_inference_off_makes_the_untagged_hop_an_offender() -> None:
    inv = bastion_estate(OFFICE_SSH, FROM_BASTION_IP, tags={})
    worker = verdict(VIA_BASTION, inv, WORKER_UID, infer_bastions=False)
    assert worker.status == Status.FAIL
    assert worker.evidence["paths"][0]["source"] == "i-b"


def test_inferred_bastion_open_to_the_world_is_still_an_admin_exposure() -> None:
    inv = bastion_estate(SSH_WORLD, FROM_BASTION_IP, tags={})
    admin = status(ADMIN, inv, BASTION_UID)
    assert admin.status == Status.FAIL
    assert admin.evidence["bastion"].startswith("inferred")
    assert status(BASTION, inv, BASTION_UID).status == Status.FAIL


def test_two_exposed_admin_hops_into_one_tier_are_not_bastions() -> None:
    # i-1 (public, SSH open) and i-b both reach the worker on SSH: neither is "the only hop"
    inv = bastion_estate(OFFICE_SSH, [sg_rule(22, 22, "10.0.0.0/16")], tags={})
    results = by_uid(run_one(BASTION, inv))
    assert BASTION_UID not in results
    worker = verdict(VIA_BASTION, inv, WORKER_UID)
    assert worker.status == Status.FAIL
    assert set(sources(worker)) >= {"i-1", "i-b"}


def test_tagged_bastion_prevents_inferring_a_second_hop() -> None:
    inv = bastion_estate(SSH_WORLD, [sg_rule(22, 22, "10.0.0.0/16")])
    results = by_uid(run_one(BASTION, inv))
    assert set(results) == {BASTION_UID}
    worker = verdict(VIA_BASTION, inv, WORKER_UID)
    assert worker.status == Status.FAIL
    assert set(sources(worker)) == {"i-1"}


# -- bastions by intent: the security group private hosts name, the name ------------------------


def test_untagged_bastion_named_by_the_private_tiers_group_is_designated() -> None:
    # the worker admits SSH only from members of sg-b: the network itself names the bastion
    inv = bastion_estate(SSH_WORLD, FROM_BASTION, tags={})
    bastion = status(BASTION, inv, BASTION_UID)
    assert bastion.status == Status.FAIL  # open to the world: the bastion check says so
    assert bastion.evidence["bastion"].startswith("referenced: security group sg-b")
    assert "i-w" in bastion.evidence["bastion"]
    admin = status(ADMIN, inv, BASTION_UID)
    assert admin.status == Status.PASS and "designated bastion" in admin.message
    assert status(VIA_BASTION, inv, WORKER_UID).status == Status.PASS


def test_named_bastion_is_no_bypass_when_another_exposed_host_reaches_the_tier() -> None:
    # the miss: no tag, and i-1 (public, SSH open) reaches the worker too, so nothing is
    # inferred; the jump host's own path used to be reported as a non-bastion source
    inv = bastion_estate(OFFICE_SSH, [sg_rule(22, 22, "10.0.0.0/16")], tags={"Name": "jump-host"})
    worker = verdict(VIA_BASTION, inv, WORKER_UID)
    assert worker.status == Status.FAIL
    assert set(sources(worker)) == {"i-1"}
    bastion = status(BASTION, inv, BASTION_UID)
    assert bastion.evidence["bastion"] == "named: 'jump-host' matches the bastion name pattern"


def test_a_name_never_hides_an_exposure() -> None:
    inv = bastion_estate(SSH_WORLD, [sg_rule(22, 22, "10.0.0.0/16")], tags={"Name": "bastion-1"})
    admin = status(ADMIN, inv, BASTION_UID)
    assert admin.status == Status.FAIL and admin.evidence["bastion"].startswith("named")


def test_names_that_only_contain_the_word_are_not_bastions() -> None:
    vpc_ssh = [sg_rule(22, 22, "10.0.0.0/16")]
    inv = bastion_estate(OFFICE_SSH, vpc_ssh, tags={"Name": "jumpstart-api"})
    assert BASTION_UID not in by_uid(run_one(BASTION, inv))


def test_a_group_admitting_its_own_members_names_no_bastion() -> None:
    # the worker's group admits SSH from itself: peers of one tier, not a bastion
    inv = bastion_estate(OFFICE_SSH, [sg_rule(22, 22, "sg-w", kind="security_group")], tags={})
    found = by_uid(run_one(BASTION, inv))
    reasons = [str(f.evidence.get("bastion", "")) for f in found.values()]
    assert not any(r.startswith("referenced") for r in reasons)


def test_a_group_that_is_one_of_several_admin_sources_names_no_bastion() -> None:
    worker_ingress = [*FROM_BASTION, sg_rule(22, 22, "10.0.0.0/16")]
    inv = bastion_estate(SSH_WORLD, worker_ingress, tags={})
    assert status(ADMIN, inv, BASTION_UID).status == Status.FAIL
