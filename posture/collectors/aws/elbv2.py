"""Elastic Load Balancing v2: load balancers, listeners, target groups (with targets) and the
SSL policies the listeners use, as the API describes them (attrs as in ``docs/aws-assets.md``).

SSL policies are read with ``DescribeSSLPolicies``: the protocols of a policy are never inferred
from its name.
"""

from __future__ import annotations

from typing import Any

from posture.collectors.aws.base import Payload, RegionScope, chunks, tag_map
from posture.collectors.aws.elbv2_attributes import PERMISSIONS as ATTRIBUTE_PERMISSIONS
from posture.collectors.aws.elbv2_attributes import add_attributes
from posture.model import Asset

SERVICE = "elbv2"
LOAD_BALANCER = "AWS::ElasticLoadBalancingV2::LoadBalancer"
LISTENER = "AWS::ElasticLoadBalancingV2::Listener"
TARGET_GROUP = "AWS::ElasticLoadBalancingV2::TargetGroup"
SSL_POLICY = "AWS::ElasticLoadBalancingV2::SSLPolicy"
TAGS_PER_CALL = 20
TLS_PROTOCOLS = frozenset({"HTTPS", "TLS"})

PERMISSIONS: tuple[str, ...] = (
    "elasticloadbalancing:DescribeLoadBalancers", "elasticloadbalancing:DescribeListeners",
    "elasticloadbalancing:DescribeRules", "elasticloadbalancing:DescribeTargetGroups",
    "elasticloadbalancing:DescribeTargetHealth", "elasticloadbalancing:DescribeSSLPolicies",
    "elasticloadbalancing:DescribeTags", *ATTRIBUTE_PERMISSIONS,
)


def collect(scope: RegionScope) -> list[Asset]:
    # Without the load balancers, their listeners and the policies those use are unknown too.
    lbs = scope.paginate(SERVICE, "DescribeLoadBalancers", "LoadBalancers",
                         (LOAD_BALANCER, LISTENER, SSL_POLICY))
    groups = scope.paginate(SERVICE, "DescribeTargetGroups", "TargetGroups", (TARGET_GROUP,))
    lbs, groups = lbs or [], groups or []
    tags = fetch_tags(scope, [lb["LoadBalancerArn"] for lb in lbs]
                      + [tg["TargetGroupArn"] for tg in groups])
    assets = [normalize_load_balancer(scope, lb, tags.get(lb["LoadBalancerArn"])) for lb in lbs]
    assets = add_attributes(scope, assets)  # access logs
    names = {lb["LoadBalancerArn"]: lb.get("LoadBalancerName", "") for lb in lbs}
    listeners = [ls for lb in lbs for ls in fetch_listeners(scope, lb["LoadBalancerArn"])]
    assets += [normalize_listener(scope, ls, names.get(ls.get("LoadBalancerArn", ""), ""),
                                  fetch_rules(scope, ls))
               for ls in listeners]
    for tg in groups:
        targets = fetch_targets(scope, tg["TargetGroupArn"])
        assets.append(normalize_target_group(scope, tg, targets, tags.get(tg["TargetGroupArn"])))
    used = sorted({p for p in map(listener_ssl_policy, listeners) if p})
    assets += [normalize_ssl_policy(scope, p) for p in fetch_ssl_policies(scope, used)]
    return assets


# --- fetch ---------------------------------------------------------------------------------


def fetch_listeners(scope: RegionScope, lb_arn: str) -> list[Payload]:
    listeners = scope.paginate(SERVICE, "DescribeListeners", "Listeners",
                               (LISTENER, SSL_POLICY), resource_uid=lb_arn,
                               LoadBalancerArn=lb_arn)
    return listeners or []


def fetch_rules(scope: RegionScope, listener: Payload) -> list[Payload] | None:
    """The non-default rules of an HTTP(S) listener (ALB); ``None`` if they could not be read.

    Other listeners have only their default actions. A failure is recorded for the region (not
    for the listener alone): the rules' target groups are unknown, so every target's exposure
    through load balancers there is unverified.
    """
    if listener.get("Protocol") not in ("HTTP", "HTTPS"):
        return []
    rules = scope.paginate(SERVICE, "DescribeRules", "Rules", (f"{LISTENER}#rules",),
                           ListenerArn=listener["ListenerArn"])
    if rules is None:
        return None
    return [r for r in rules if not r.get("IsDefault")]


def fetch_targets(scope: RegionScope, tg_arn: str) -> list[Payload] | None:
    """Target health descriptions of one group, or ``None`` if the call failed."""
    resp = scope.call(SERVICE, "DescribeTargetHealth", (f"{TARGET_GROUP}#targets",),
                      resource_uid=tg_arn, TargetGroupArn=tg_arn)
    return None if resp is None else list(resp.get("TargetHealthDescriptions", []))


def fetch_tags(scope: RegionScope, arns: list[str]) -> dict[str, dict[str, str]]:
    """Tags by ARN, 20 ARNs per DescribeTags call; ARNs of a failed batch get no entry."""
    tags: dict[str, dict[str, str]] = {}
    facets = (f"{LOAD_BALANCER}#tags", f"{TARGET_GROUP}#tags")
    for batch in chunks(arns, TAGS_PER_CALL):
        resp = scope.call(SERVICE, "DescribeTags", facets, ResourceArns=batch)
        for desc in (resp or {}).get("TagDescriptions", []):
            tags[desc["ResourceArn"]] = tag_map(desc.get("Tags"))
    return tags


def fetch_ssl_policies(scope: RegionScope, names: list[str]) -> list[Payload]:
    """The named policies; a name the API did not return is recorded as a collection error."""
    if not names:
        return []
    policies = scope.paginate(SERVICE, "DescribeSSLPolicies", "SslPolicies", (SSL_POLICY,),
                              Names=names)
    if policies is None:
        return []
    found = {p.get("Name") for p in policies}
    for name in names:
        if name not in found:
            scope.record(SERVICE, "DescribeSSLPolicies", "SSLPolicyNotFound",
                         f"policy {name} was not returned", (SSL_POLICY,),
                         resource_uid=ssl_policy_uid(scope, name))
    return [p for p in policies if p.get("Name") in names]


# --- normalize -----------------------------------------------------------------------------


def normalize_load_balancer(
    scope: RegionScope, lb: Payload, tags: dict[str, str] | None
) -> Asset:
    zones = lb.get("AvailabilityZones", [])
    addresses = {a["IpAddress"] for z in zones for a in z.get("LoadBalancerAddresses", [])
                 if a.get("IpAddress")}
    internet = lb.get("Scheme") == "internet-facing"
    attrs = {
        "arn": lb["LoadBalancerArn"],
        "lb_name": lb.get("LoadBalancerName"),
        "lb_type": lb.get("Type"),
        "scheme": lb.get("Scheme"),
        "vpc_id": lb.get("VpcId"),
        "subnet_ids": sorted({z["SubnetId"] for z in zones if z.get("SubnetId")}),
        "security_group_ids": sorted(lb.get("SecurityGroups", [])),
        "dns_name": lb.get("DNSName"),
        "state": (lb.get("State") or {}).get("Code"),
        # An internet-facing LB whose addresses the API does not list (ALBs) has unknown IPs.
        "public_ips": sorted(addresses) if addresses or not internet else None,
    }
    name = lb.get("LoadBalancerName") or lb["LoadBalancerArn"]
    return scope.asset(lb["LoadBalancerArn"], LOAD_BALANCER, name, attrs, raw=lb, tags=tags)


def normalize_listener(
    scope: RegionScope, listener: Payload, lb_name: str, rules: list[Payload] | None = None
) -> Asset:
    actions = sorted(listener.get("DefaultActions", []), key=lambda a: a.get("Order", 0))
    attrs = {
        "arn": listener["ListenerArn"],
        "load_balancer_arn": listener.get("LoadBalancerArn"),
        "port": listener.get("Port"),
        "protocol": listener.get("Protocol"),
        "ssl_policy": listener_ssl_policy(listener),
        "certificate_arns": sorted({c["CertificateArn"] for c in listener.get("Certificates", [])
                                    if c.get("CertificateArn")}),
        "default_actions": [normalize_action(a) for a in actions],
        "rules": None if rules is None else sorted(
            (normalize_rule(r) for r in rules), key=lambda r: (r["priority"] is None,
                                                               r["priority"] or 0)),
    }
    name = f"{lb_name}:{listener.get('Port')}" if lb_name else listener["ListenerArn"]
    return scope.asset(listener["ListenerArn"], LISTENER, name, attrs, raw=listener)


def listener_ssl_policy(listener: Payload) -> str | None:
    """The policy of a TLS-terminating listener; plain HTTP/TCP/UDP listeners have none."""
    if listener.get("Protocol") not in TLS_PROTOCOLS:
        return None
    return listener.get("SslPolicy") or None


def normalize_rule(rule: Payload) -> dict[str, Any]:
    """One listener rule: priority, conditions (``source_ips`` apart: it restricts clients) and
    actions."""
    conditions: list[dict[str, Any]] = []
    source_ips: list[str] | None = None
    for c in rule.get("Conditions") or ():
        field = c.get("Field")
        values = list(c.get("Values") or ())
        for key in ("HostHeaderConfig", "PathPatternConfig", "HttpRequestMethodConfig",
                    "SourceIpConfig"):
            values += list((c.get(key) or {}).get("Values") or ())
        if c.get("HttpHeaderConfig"):
            header = c["HttpHeaderConfig"]
            values += [f"{header.get('HttpHeaderName')}: {v}" for v in header.get("Values") or ()]
        if c.get("QueryStringConfig"):
            values += [f"{q.get('Key') or ''}={q.get('Value')}"
                       for q in c["QueryStringConfig"].get("Values") or ()]
        if field == "source-ip":
            source_ips = sorted(set(values) | set(source_ips or ()))
        conditions.append({"field": field, "values": sorted(set(values))})
    priority = rule.get("Priority")
    actions = sorted(rule.get("Actions") or (), key=lambda a: a.get("Order", 0))
    return {
        "arn": rule.get("RuleArn"),
        "priority": int(str(priority)) if str(priority).isdigit() else None,
        "conditions": sorted(conditions, key=lambda c: str(c["field"])),
        "source_ips": source_ips,
        "actions": [normalize_action(a) for a in actions],
    }


def normalize_action(action: Payload) -> dict[str, Any]:
    forward = (action.get("ForwardConfig") or {}).get("TargetGroups", [])
    groups = {g["TargetGroupArn"] for g in forward if g.get("TargetGroupArn")}
    if action.get("TargetGroupArn"):
        groups.add(action["TargetGroupArn"])
    redirect = action.get("RedirectConfig") or {}
    fixed = action.get("FixedResponseConfig") or {}
    return {
        "type": action.get("Type"),
        "target_group_arns": sorted(groups),
        "redirect_protocol": redirect.get("Protocol"),
        "redirect_port": redirect.get("Port"),
        "status_code": redirect.get("StatusCode") or fixed.get("StatusCode"),
    }


def normalize_target_group(
    scope: RegionScope, tg: Payload, targets: list[Payload] | None, tags: dict[str, str] | None
) -> Asset:
    """``targets`` is ``None`` when DescribeTargetHealth failed: unknown, not "no targets"."""
    attrs = {
        "arn": tg["TargetGroupArn"],
        "tg_name": tg.get("TargetGroupName"),
        "protocol": tg.get("Protocol"),
        "port": tg.get("Port"),
        "target_type": tg.get("TargetType"),
        "vpc_id": tg.get("VpcId"),
        "load_balancer_arns": sorted(set(tg.get("LoadBalancerArns", []))),
        "targets": None if targets is None else normalize_targets(targets),
    }
    raw = {**tg, "TargetHealthDescriptions": targets}
    name = tg.get("TargetGroupName") or tg["TargetGroupArn"]
    return scope.asset(tg["TargetGroupArn"], TARGET_GROUP, name, attrs, raw=raw, tags=tags)


def normalize_targets(descriptions: list[Payload]) -> list[dict[str, Any]]:
    targets = [
        {
            "id": (d.get("Target") or {}).get("Id"),
            "port": (d.get("Target") or {}).get("Port"),
            "availability_zone": (d.get("Target") or {}).get("AvailabilityZone"),
            "health": (d.get("TargetHealth") or {}).get("State"),
        }
        for d in descriptions
    ]
    return sorted(targets, key=lambda t: (str(t["id"]), t["port"] or 0))


def normalize_ssl_policy(scope: RegionScope, policy: Payload) -> Asset:
    name = policy["Name"]
    ciphers = sorted(policy.get("Ciphers", []), key=lambda c: c.get("Priority", 0))
    attrs = {
        "policy_name": name,
        "protocols": sorted(policy.get("SslProtocols", [])),
        "ciphers": [c["Name"] for c in ciphers if c.get("Name")],
    }
    return scope.asset(ssl_policy_uid(scope, name), SSL_POLICY, name, attrs, raw=policy)


def ssl_policy_uid(scope: RegionScope, name: str) -> str:
    return scope.arn("elasticloadbalancing", f"ssl-policy/{name}")
