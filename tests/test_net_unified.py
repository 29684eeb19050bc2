"""One network vocabulary for every cloud (posture.net): the same listener is judged the same way
on AWS, Azure and GCP. Before it, Azure's database port class had 10 ports and GCP's 12 against
AWS's 14, so a search cluster on tcp/9300 or a Redshift-compatible endpoint on tcp/5439 open to
the internet passed on one cloud and failed on another."""

from __future__ import annotations

import pytest
from support.azure import inventory, nic, nsg, public_ip, rule, subnet, vm, vnet
from support.checks import catalogue, only, run_one
from support.gcp import firewall, ginventory, instance

from posture import net
from posture.graph.intervals import PUBLIC, cidr_span
from posture.model import Status

CLOUDS = ("aws", "azure", "gcp")


@pytest.mark.parametrize("kind", ["admin_ports", "db_ports"])
def test_every_cloud_judges_the_same_port_class(kind: str) -> None:
    area = "admin" if kind == "admin_ports" else "db"
    specs = {c.spec.id: c.spec for c in catalogue().checks}
    defaults = {
        cloud: tuple(specs[f"{cloud}.network.{area}_ports_not_internet_reachable"].params[kind])
        for cloud in CLOUDS
    }
    expected = net.ADMIN_PORTS if kind == "admin_ports" else net.DATABASE_PORTS
    assert defaults == dict.fromkeys(CLOUDS, expected)


def test_every_database_port_has_a_service_name() -> None:
    assert set(net.DATABASE_PORTS) | set(net.ADMIN_PORTS) <= set(net.SERVICES)
    assert net.service_label(9300) == "Elasticsearch (tcp/9300)"
    assert net.service_label(8080) == "tcp/8080"


@pytest.mark.parametrize("port", [9300, 27018, 5439, 8086])
def test_azure_database_on_a_port_only_aws_judged_before_is_exposed(port: int) -> None:
    open_nsg = nsg("open-db", rule("db-any", 110, src="Internet", ports=str(port)))
    sn = subnet("data", "10.0.3.0/24", open_nsg)
    pip = public_ip("pip-db", "20.0.0.9", sku="Standard")
    card = nic("nic-db", sn, "10.0.3.4", public=pip)
    check = "azure.network.db_ports_not_internet_reachable"
    finding = only(run_one(check, inventory(vnet(), sn, card, vm("db", card), open_nsg, pip)))
    assert finding.status is Status.FAIL, finding.message
    assert str(port) in finding.message
    # the trap: the same NSG without a public IP is not an exposure
    private = nic("nic-db", sn, "10.0.3.4")
    quiet = only(run_one(check, inventory(vnet(), sn, private, vm("db", private), open_nsg)))
    assert quiet.status is Status.PASS


@pytest.mark.parametrize("port", [5439, 8086])
def test_gcp_database_on_a_port_only_aws_judged_before_is_exposed(port: int) -> None:
    rule_ = firewall("db-open", rules=(("tcp", (str(port),)),))
    check = "gcp.network.db_ports_not_internet_reachable"
    found = run_one(check, ginventory(rule_, instance("db")))
    assert only(found).status is Status.FAIL
    closed = run_one(check, ginventory(rule_, instance("db", external=False)))
    assert only(closed).status is Status.PASS  # the trap: no external address, no exposure


def test_one_definition_of_the_public_address_space() -> None:
    for cidr in net.NON_PUBLIC_IPV4:
        parsed = cidr_span(cidr)
        assert parsed is not None
        assert not (PUBLIC[4] & parsed[1]), cidr
    assert PUBLIC[4].size() == (1 << 32) - sum(
        1 << (32 - int(c.split("/")[1])) for c in net.NON_PUBLIC_IPV4
    )
