"""Exposure through external load balancers (posture/graph/gcp/lb.py): proxy and passthrough paths,
the backend port and the sources the firewall must admit, and what stays unresolved."""

from __future__ import annotations

from support.gcp import (
    backend_service,
    epolicy,
    firewall,
    forwarding_rule,
    gcp_error,
    instance,
    instance_group,
    network,
    proxy,
    prule,
    results,
    statuses,
    subnetwork,
    target_pool,
    url_map,
)

from posture.model import Asset, Status

ADMIN = "gcp.network.admin_ports_not_internet_reachable"
DB = "gcp.network.db_ports_not_internet_reachable"
LATENT = "gcp.network.no_latent_sensitive_port_exposure"
LB_RANGES = ("130.211.0.0/22", "35.191.0.0/16")
IG = "zones/us-central1-a/instanceGroups/ig"


def tcp_proxy_to_ssh(
    *, port_name: str = "ssh", named: int = 22, scheme: str = "EXTERNAL"
) -> tuple[Asset, ...]:
    """A global TCP proxy on 443 whose backend port is the group's named port ``ssh``."""
    return (
        forwarding_rule("ssh-lb", target="global/targetTcpProxies/ssh-proxy", scheme=scheme),
        proxy("targetTcpProxies", "ssh-proxy", service="global/backendServices/ssh-bs"),
        backend_service("ssh-bs", IG, port_name=port_name),
        instance_group("ig", "vm", named_ports=(("ssh", named),)),
        instance("vm", external=False),
    )


def test_proxy_lb_exposes_the_named_port_when_the_firewall_admits_google_front_ends() -> None:
    got = results(ADMIN, *tcp_proxy_to_ssh(), firewall("lb", source_ranges=LB_RANGES))
    vm = got["vm"]
    assert vm.status is Status.FAIL
    assert "through load balancer ssh-lb" in vm.message and "tcp/22" in vm.message
    path = vm.evidence["paths"][0]
    assert [h["kind"] for h in path["path"]] == [
        "GlobalForwardingRule",
        "TargetTcpProxy",
        "BackendService",
        "InstanceGroup",
        "Instance",
    ]
    assert path["frontend"]["ports"] == "tcp/443" and path["port"] == 22
    assert path["firewall_rule"]["firewall"] == "lb"
    # an exposure through a load balancer is not latent
    assert statuses(LATENT, *tcp_proxy_to_ssh(), firewall("any")) == {"vm": Status.PASS}


def test_proxy_lb_traps() -> None:
    # the firewall does not admit the proxies: nothing reaches the instance
    assert statuses(ADMIN, *tcp_proxy_to_ssh()) == {"vm": Status.PASS}
    # the firewall admits only the client range the LB hides: proxies come from Google
    corp = firewall("corp", source_ranges=("8.8.8.0/24",))
    assert statuses(ADMIN, *tcp_proxy_to_ssh(), corp) == {"vm": Status.PASS}
    # the backend service names a port the group does not define: nothing is delivered
    lb = firewall("lb", source_ranges=LB_RANGES)
    assert statuses(ADMIN, *tcp_proxy_to_ssh(port_name="http"), lb) == {"vm": Status.PASS}
    # the named port is not an admin port
    assert statuses(ADMIN, *tcp_proxy_to_ssh(named=8080), lb) == {"vm": Status.PASS}
    # a hierarchical deny of the proxies' ranges blocks the path
    org = epolicy("org", prule(10, "deny", src=LB_RANGES))
    assert statuses(ADMIN, *tcp_proxy_to_ssh(), lb, network(policies=[org])) == {"vm": Status.PASS}
    # an internal forwarding rule is not internet exposure
    internal = tcp_proxy_to_ssh(scheme="INTERNAL_MANAGED")
    assert statuses(ADMIN, *internal, lb) == {"vm": Status.PASS}


def test_https_lb_through_url_map_and_backend_bucket() -> None:
    assets = (
        forwarding_rule("web", target="global/targetHttpsProxies/web", scheme="EXTERNAL_MANAGED"),
        proxy("targetHttpsProxies", "web", url_map="global/urlMaps/web"),
        url_map("web", "global/backendBuckets/static", "global/backendServices/admin"),
        backend_service("admin", IG, port_name="winrm", protocol="HTTPS"),
        instance_group("ig", "win", named_ports=(("winrm", 5986),)),
        instance("win", external=False),
        firewall("lb", source_ranges=LB_RANGES, rules=(("tcp", ("5986",)),)),
    )
    got = results(ADMIN, *assets)
    assert got["win"].status is Status.FAIL
    assert [h["id"] for h in got["win"].evidence["paths"][0]["path"]] == [
        "web",
        "web",
        "web",
        "admin",
        "ig",
        "win",
    ]
    # Identity-Aware Proxy on the backend service: authenticated users only
    iap = backend_service("admin", IG, port_name="winrm", protocol="HTTPS", iap=True)
    assert statuses(ADMIN, *assets[:3], iap, *assets[4:]) == {"win": Status.PASS}
    # Cloud Armor is not evaluated: possible, not certain
    armor = backend_service(
        "admin",
        IG,
        port_name="winrm",
        protocol="HTTPS",
        security_policy="projects/acme-test/global/securityPolicies/waf",
    )
    got = results(ADMIN, *assets[:3], armor, *assets[4:])
    assert got["win"].status is Status.INCONCLUSIVE and "Cloud Armor" in got["win"].message


def nlb_to_pool(ports: str = "22-22") -> Asset:
    """The regional passthrough forwarding rule ``ssh-nlb`` on ``ports`` to target pool ``pool``."""
    return forwarding_rule("ssh-nlb", target="regions/us-central1/targetPools/pool", ports=ports,
                           region="us-central1")


def test_passthrough_nlb_keeps_the_client_address_and_port() -> None:
    assets = (nlb_to_pool(), target_pool("pool", "jump"), instance("jump", external=False))
    # the instance has no external IP; the firewall admits the internet on 22
    got = results(ADMIN, *assets, firewall("ssh"))
    assert got["jump"].status is Status.FAIL
    assert got["jump"].evidence["paths"][0]["sources"].startswith("internet clients")
    assert statuses(LATENT, *assets, firewall("ssh")) == {"jump": Status.PASS}
    # trap: admitting only the LB proxy ranges does not admit passthrough clients
    lb_only = firewall("lb", source_ranges=LB_RANGES)
    assert statuses(ADMIN, *assets, lb_only) == {"jump": Status.PASS}
    # trap: the forwarding rule's ports do not include the admin port
    every_port = firewall("all", rules=(("tcp", ()),))
    assert statuses(ADMIN, nlb_to_pool("80-80"), *assets[1:], every_port) == {"jump": Status.PASS}


def test_passthrough_backend_service_with_all_ports() -> None:
    assets = (
        forwarding_rule(
            "l3",
            backend_service="regions/us-central1/backendServices/nlb",
            ports=None,
            protocol="L3_DEFAULT",
            region="us-central1",
        ),
        backend_service("nlb", IG, protocol="UNSPECIFIED", region="us-central1"),
        instance_group("ig", "db"),
        instance("db", external=False),
        firewall("pg", rules=(("tcp", ("5432",)),)),
    )
    got = results(DB, *assets)
    assert got["db"].status is Status.FAIL and "tcp/5432" in got["db"].message


def test_regional_external_managed_proxies_come_from_the_proxy_only_subnet() -> None:
    base = (
        forwarding_rule(
            "admin-alb",
            target="regions/us-central1/targetHttpsProxies/p",
            scheme="EXTERNAL_MANAGED",
            region="us-central1",
        ),
        proxy(
            "targetHttpsProxies", "p", url_map="regions/us-central1/urlMaps/m", region="us-central1"
        ),
        url_map("m", "regions/us-central1/backendServices/bs", region="us-central1"),
        backend_service("bs", IG, port_name="ssh", region="us-central1", scheme="EXTERNAL_MANAGED"),
        instance_group("ig", "vm", named_ports=(("ssh", 22),)),
        instance("vm", external=False),
    )
    proxy_only = subnetwork("proxy-only", "10.129.0.0/23", purpose="REGIONAL_MANAGED_PROXY")
    from_subnet = firewall("from-proxies", source_ranges=("10.129.0.0/23",))
    assert statuses(ADMIN, *base, proxy_only, from_subnet) == {"vm": Status.FAIL}
    # trap: the Google front-end ranges are not where regional managed proxies come from
    gfe = firewall("gfe", source_ranges=LB_RANGES)
    assert statuses(ADMIN, *base, proxy_only, gfe) == {"vm": Status.PASS}
    # no proxy-only subnet known: the source range is unknown -> INCONCLUSIVE on the group
    got = statuses(ADMIN, *base, from_subnet)
    assert got == {"vm": Status.PASS, "ig": Status.INCONCLUSIVE}


def test_unresolved_backends_are_inconclusive() -> None:
    lb = firewall("lb", source_ranges=LB_RANGES)
    front = (
        forwarding_rule("gke", target="global/targetHttpProxies/p"),
        proxy("targetHttpProxies", "p", url_map="global/urlMaps/m"),
        url_map("m", "global/backendServices/bs"),
    )
    neg = backend_service(
        "bs", "zones/us-central1-a/networkEndpointGroups/k8s-neg", port_name="http"
    )
    got = results(ADMIN, *front, neg, lb)
    assert got["bs"].status is Status.INCONCLUSIVE
    assert "network endpoint group" in got["bs"].message
    # serverless NEGs are not instances: nothing to report
    run = backend_service("bs", "regions/us-central1/networkEndpointGroups/cloud-run")
    assert results(ADMIN, *front, run, lb) == {}
    # members of the group could not be listed
    bs = backend_service("bs", IG, port_name="http")
    unknown = instance_group("ig", named_ports=(("http", 22),), unknown_members=True)
    err = gcp_error(
        "compute",
        "instanceGroups.listInstances",
        ("compute.googleapis.com/InstanceGroup#instances",),
        resource_uid=unknown.uid,
    )
    got = results(ADMIN, *front, bs, unknown, lb, errors=(err,))
    assert got["ig"].status is Status.INCONCLUSIVE and "members" in got["ig"].message
    # a backend service that is not in the inventory (another project)
    got = results(ADMIN, *front, lb)
    assert got["gke"].status is Status.INCONCLUSIVE


def test_a_failed_forwarding_rule_listing_is_inconclusive() -> None:
    err = gcp_error(
        "compute", "forwardingRules.aggregatedList", ("compute.googleapis.com/ForwardingRule",)
    )
    got = statuses(ADMIN, instance("vm", external=False), errors=(err,))
    assert got["vm"] is Status.INCONCLUSIVE
