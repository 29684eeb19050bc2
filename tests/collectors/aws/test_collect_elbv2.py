"""ELBv2 collector: real boto3 against the moto server.

moto gaps met here:
- every listener gets an ``SslPolicy``, plain HTTP ones included (the collector ignores the policy
  of a non-TLS listener, as AWS sets none);
- NLB ``SubnetMappings`` EIPs are not reported in ``LoadBalancerAddresses`` (and NLB ARNs say
  ``app/``); target health has no ``AvailabilityZone``;
- ``DescribeSSLPolicies`` silently skips unknown names (AWS fails the call).
"""

from __future__ import annotations

from typing import Any

import pytest
from support.aws import ACCOUNT, client
from support.collect import collected, network_with_group, scope
from support.faults import deny, respond

from posture.collectors.aws import elbv2
from posture.collectors.aws.base import ClientFactory
from posture.model import Asset

REGION = "us-east-1"
LB = "AWS::ElasticLoadBalancingV2::LoadBalancer"
LISTENER = "AWS::ElasticLoadBalancingV2::Listener"
TG = "AWS::ElasticLoadBalancingV2::TargetGroup"
POLICY = "AWS::ElasticLoadBalancingV2::SSLPolicy"
OLD_TLS = "ELBSecurityPolicy-TLS-1-1-2017-01"
MODERN_TLS = "ELBSecurityPolicy-TLS13-1-2-2021-06"


@pytest.fixture
def estate(moto_endpoint: str) -> dict[str, Any]:
    """An internet-facing ALB (HTTPS + HTTP redirect + fixed response) and an internal NLB."""
    ec2c, elb = client("ec2", moto_endpoint), client("elbv2", moto_endpoint)
    net = network_with_group(ec2c, "alb")
    vpc, subs = net["vpc"], net["subnets"]
    iid = ec2c.run_instances(ImageId="ami-1e749f67", MinCount=1, MaxCount=1,
                             SubnetId=subs[0])["Instances"][0]["InstanceId"]
    cert = client("acm", moto_endpoint).request_certificate(DomainName="shop.example.com")
    alb = elb.create_load_balancer(Name="shop", Subnets=subs, SecurityGroups=[net["sg"]],
                                   Scheme="internet-facing",
                                   Tags=[{"Key": "env", "Value": "prod"}])["LoadBalancers"][0]
    nlb = elb.create_load_balancer(Name="inner", Subnets=[subs[0]], Type="network",
                                   Scheme="internal")["LoadBalancers"][0]
    web = elb.create_target_group(Name="web", Protocol="HTTP", Port=80, VpcId=vpc,
                                  TargetType="instance", Tags=[{"Key": "app", "Value": "shop"}])
    web_arn = web["TargetGroups"][0]["TargetGroupArn"]
    elb.register_targets(TargetGroupArn=web_arn, Targets=[{"Id": iid, "Port": 8080}])
    tcp = elb.create_target_group(Name="tcp", Protocol="TCP", Port=5432, VpcId=vpc,
                                  TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]
    elb.register_targets(TargetGroupArn=tcp, Targets=[{"Id": "10.0.1.10"}, {"Id": "10.0.2.10"}])
    forward = [{"Type": "forward", "TargetGroupArn": web_arn}]
    https = elb.create_listener(LoadBalancerArn=alb["LoadBalancerArn"], Protocol="HTTPS",
                                Port=443, SslPolicy=OLD_TLS, DefaultActions=forward,
                                Certificates=[{"CertificateArn": cert["CertificateArn"]}])
    http = elb.create_listener(
        LoadBalancerArn=alb["LoadBalancerArn"], Protocol="HTTP", Port=80,
        DefaultActions=[{"Type": "redirect", "RedirectConfig": {
            "Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}}])
    fixed = elb.create_listener(
        LoadBalancerArn=alb["LoadBalancerArn"], Protocol="HTTP", Port=8081,
        DefaultActions=[{"Type": "fixed-response", "FixedResponseConfig": {
            "StatusCode": "404", "ContentType": "text/plain"}}])
    fixed_arn = fixed["Listeners"][0]["ListenerArn"]
    elb.create_rule(ListenerArn=fixed_arn, Priority=20, Actions=forward, Conditions=[
        {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/admin/*"]}}])
    elb.create_rule(ListenerArn=fixed_arn, Priority=10, Actions=forward, Conditions=[
        {"Field": "source-ip", "SourceIpConfig": {"Values": ["203.0.113.0/24"]}}])
    tls = elb.create_listener(LoadBalancerArn=nlb["LoadBalancerArn"], Protocol="TLS", Port=5432,
                              SslPolicy=MODERN_TLS, DefaultActions=[
                                  {"Type": "forward", "TargetGroupArn": tcp}],
                              Certificates=[{"CertificateArn": cert["CertificateArn"]}])
    return {**net, "instance": iid, "alb": alb, "nlb": nlb,
            "web": web_arn, "tcp": tcp, "cert": cert["CertificateArn"],
            "https": https["Listeners"][0]["ListenerArn"],
            "http": http["Listeners"][0]["ListenerArn"],
            "fixed": fixed["Listeners"][0]["ListenerArn"],
            "tls": tls["Listeners"][0]["ListenerArn"]}


def _of(assets: dict[str, Asset], type_: str) -> dict[str, Asset]:
    return {uid: a for uid, a in assets.items() if a.type == type_}


def _policy_uid(name: str) -> str:
    return f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:ssl-policy/{name}"


def test_load_balancers_and_listeners(factory: ClientFactory, estate: dict[str, Any]) -> None:
    assets, scope = collected(elbv2, factory)
    assert scope.errors == []

    alb = assets[estate["alb"]["LoadBalancerArn"]]
    assert (alb.type, alb.name, dict(alb.tags)) == (LB, "shop", {"env": "prod"})
    assert alb.attrs == {
        "arn": estate["alb"]["LoadBalancerArn"], "lb_name": "shop", "lb_type": "application",
        "scheme": "internet-facing", "vpc_id": estate["vpc"],
        "subnet_ids": sorted(estate["subnets"]), "security_group_ids": [estate["sg"]],
        "dns_name": estate["alb"]["DNSName"], "state": "active",
        "public_ips": None,  # an internet-facing ALB's addresses are not listed: unknown
        # moto's attributes lack access_logs.s3.enabled until it is set: unknown
        "access_logs_enabled": None, "access_logs_bucket": None,
    }
    nlb = assets[estate["nlb"]["LoadBalancerArn"]].attrs
    assert (nlb["lb_type"], nlb["scheme"], nlb["public_ips"]) == ("network", "internal", [])

    listeners = {a.uid: a.attrs for a in _of(assets, LISTENER).values()}
    assert set(listeners) == {estate[k] for k in ("https", "http", "fixed", "tls")}
    assert listeners[estate["https"]] == {
        "arn": estate["https"], "load_balancer_arn": estate["alb"]["LoadBalancerArn"],
        "port": 443, "protocol": "HTTPS", "ssl_policy": OLD_TLS,
        "certificate_arns": [estate["cert"]],
        "default_actions": [{"type": "forward", "target_group_arns": [estate["web"]],
                             "redirect_protocol": None, "redirect_port": None,
                             "status_code": None}],
        "rules": [],
    }
    # moto gives plain HTTP listeners an SslPolicy too; they terminate no TLS, so none is kept.
    assert listeners[estate["http"]]["ssl_policy"] is None
    assert listeners[estate["http"]]["default_actions"] == [
        {"type": "redirect", "target_group_arns": [], "redirect_protocol": "HTTPS",
         "redirect_port": "443", "status_code": "HTTP_301"}]
    assert listeners[estate["fixed"]]["default_actions"][0]["status_code"] == "404"
    web_forward = [{"type": "forward", "target_group_arns": [estate["web"]],
                    "redirect_protocol": None, "redirect_port": None, "status_code": None}]
    rules = listeners[estate["fixed"]]["rules"]
    assert [(r["priority"], r["conditions"], r["source_ips"], r["actions"]) for r in rules] == [
        (10, [{"field": "source-ip", "values": ["203.0.113.0/24"]}], ["203.0.113.0/24"],
         web_forward),
        (20, [{"field": "path-pattern", "values": ["/admin/*"]}], None, web_forward)]
    assert listeners[estate["tls"]]["rules"] == []  # TLS (NLB) listeners have no rules
    assert (listeners[estate["tls"]]["protocol"], listeners[estate["tls"]]["ssl_policy"]) == (
        "TLS", MODERN_TLS)


def test_ssl_policies_come_from_the_api(factory: ClientFactory, estate: dict[str, Any],
                                        moto_endpoint: str) -> None:
    assets, _ = collected(elbv2, factory)

    policies = {a.uid: a for a in _of(assets, POLICY).values()}
    assert set(policies) == {_policy_uid(OLD_TLS), _policy_uid(MODERN_TLS)}  # only those in use
    described = client("elbv2", moto_endpoint).describe_ssl_policies(
        Names=[OLD_TLS, MODERN_TLS])["SslPolicies"]
    for truth in described:
        got = policies[_policy_uid(truth["Name"])]
        assert (got.name, got.region) == (truth["Name"], REGION)
        assert got.attrs == {
            "policy_name": truth["Name"],
            "protocols": sorted(truth["SslProtocols"]),
            "ciphers": [c["Name"] for c in sorted(truth["Ciphers"], key=lambda c: c["Priority"])],
        }
    assert "TLSv1.1" in policies[_policy_uid(OLD_TLS)].attrs["protocols"]
    assert "TLSv1.1" not in policies[_policy_uid(MODERN_TLS)].attrs["protocols"]


def test_target_groups_and_targets(factory: ClientFactory, estate: dict[str, Any]) -> None:
    assets, _ = collected(elbv2, factory)

    web = assets[estate["web"]]
    assert (web.name, dict(web.tags)) == ("web", {"app": "shop"})
    assert web.attrs == {
        "arn": estate["web"], "tg_name": "web", "protocol": "HTTP", "port": 80,
        "target_type": "instance", "vpc_id": estate["vpc"],
        "load_balancer_arns": [estate["alb"]["LoadBalancerArn"]],
        # moto reports no AvailabilityZone for targets.
        "targets": [{"id": estate["instance"], "port": 8080, "availability_zone": None,
                     "health": "healthy"}],
    }
    tcp = assets[estate["tcp"]].attrs
    assert tcp["target_type"] == "ip"
    assert {(t["id"], t["port"]) for t in tcp["targets"]} == {("10.0.1.10", 5432),
                                                               ("10.0.2.10", 5432)}


def test_failed_calls_are_recorded(factory: ClientFactory, estate: dict[str, Any]) -> None:
    alb_arn = estate["alb"]["LoadBalancerArn"]
    deny(factory, "elbv2", "DescribeListeners", when={"LoadBalancerArn": alb_arn})
    deny(factory, "elbv2", "DescribeTargetHealth", when={"TargetGroupArn": estate["web"]})
    deny(factory, "elbv2", "DescribeTags")

    assets, scope = collected(elbv2, factory)

    assert set(_of(assets, LISTENER)) == {estate["tls"]}  # the NLB's listeners still came
    assert assets[estate["web"]].attrs["targets"] is None  # unknown, not "no targets"
    assert assets[estate["tcp"]].attrs["targets"]
    assert dict(assets[alb_arn].tags) == {}
    assert set(_of(assets, POLICY)) == {_policy_uid(MODERN_TLS)}
    got = {(e.service, e.operation, e.code, e.asset_types, e.resource_uid) for e in scope.errors}
    assert got == {
        ("elbv2", "DescribeListeners", "AccessDenied", (LISTENER, POLICY), alb_arn),
        ("elbv2", "DescribeTargetHealth", "AccessDenied", (f"{TG}#targets",), estate["web"]),
        ("elbv2", "DescribeTags", "AccessDenied", (f"{LB}#tags", f"{TG}#tags"), None),
    }


def test_denied_listener_rules_are_unknown(factory: ClientFactory, estate: dict[str, Any]) -> None:
    deny(factory, "elbv2", "DescribeRules", when={"ListenerArn": estate["fixed"]})

    assets, scope = collected(elbv2, factory)

    assert assets[estate["fixed"]].attrs["rules"] is None  # unknown, not "no rules"
    assert assets[estate["http"]].attrs["rules"] == []
    # the rules' target groups are unknown: recorded for the region, not for one listener
    assert {(e.operation, e.code, e.asset_types, e.resource_uid) for e in scope.errors} == {
        ("DescribeRules", "AccessDenied", (f"{LISTENER}#rules",), None)}


def test_denied_listings_are_recorded(factory: ClientFactory, estate: dict[str, Any]) -> None:
    deny(factory, "elbv2", "DescribeLoadBalancers")
    deny(factory, "elbv2", "DescribeSSLPolicies")

    assets, scope = collected(elbv2, factory)

    assert _of(assets, LB) == {} and _of(assets, LISTENER) == {}
    assert set(_of(assets, TG)) == {estate["web"], estate["tcp"]}
    assert {(e.operation, e.asset_types, e.resource_uid) for e in scope.errors} == {
        ("DescribeLoadBalancers", (LB, LISTENER, POLICY), None)}  # so no policy was asked for


def test_policy_not_returned_is_recorded(factory: ClientFactory, estate: dict[str, Any]) -> None:
    # AWS fails the whole call for an unknown name; an answer without the policy is still a gap.
    respond(factory, "elbv2", "DescribeSSLPolicies", {"SslPolicies": []})

    assets, scope = collected(elbv2, factory)

    assert _of(assets, POLICY) == {}
    assert {(e.operation, e.code, e.asset_types, e.resource_uid) for e in scope.errors} == {
        ("DescribeSSLPolicies", "SSLPolicyNotFound", (POLICY,), _policy_uid(name))
        for name in (OLD_TLS, MODERN_TLS)}


def test_permissions_cover_every_call(factory: ClientFactory, estate: dict[str, Any]) -> None:
    called: set[str] = set()
    factory.client("elbv2", REGION).meta.events.register(
        "before-parameter-build.elastic-load-balancing-v2",
        lambda model, **_: called.add(f"elasticloadbalancing:{model.name}"))

    collected(elbv2, factory)

    assert called == set(elbv2.PERMISSIONS)


def test_normalize_nlb_addresses_and_weighted_forward() -> None:
    sc = scope(region=REGION)
    arn = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/net/edge/1"
    lb = elbv2.normalize_load_balancer(sc, {
        "LoadBalancerArn": arn, "Type": "network", "Scheme": "internet-facing",
        "AvailabilityZones": [
            {"SubnetId": "subnet-b", "LoadBalancerAddresses": [
                {"IpAddress": "198.51.100.7", "AllocationId": "eipalloc-1"}]},
            {"SubnetId": "subnet-a", "LoadBalancerAddresses": [{"IpAddress": "198.51.100.3"}]}]},
        None)
    assert (lb.attrs["public_ips"], lb.attrs["subnet_ids"]) == (
        ["198.51.100.3", "198.51.100.7"], ["subnet-a", "subnet-b"])
    action = elbv2.normalize_action({"Type": "forward", "ForwardConfig": {"TargetGroups": [
        {"TargetGroupArn": "tg-b", "Weight": 1}, {"TargetGroupArn": "tg-a", "Weight": 9}]}})
    assert action["target_group_arns"] == ["tg-a", "tg-b"]
