"""Auditability: a multi-region CloudTrail (the account's own, or its organisation's) records
every management event, logs are validated and KMS-encrypted, every VPC has flow logs, log
buckets log their own access, load balancers write access logs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from posture.engine import CheckContext, Result, Subject
from posture.model import Asset, Inventory, Principle, Severity
from posture.registry import check

TRAIL = "AWS::CloudTrail::Trail"
VPC = "AWS::EC2::VPC"
FLOW_LOG = "AWS::EC2::FlowLog"
BUCKET = "AWS::S3::Bucket"
LOAD_BALANCER = "AWS::ElasticLoadBalancingV2::LoadBalancer"
ORG_ACCOUNT = "AWS::Organizations::Account"


def _shortfalls(trail: Asset) -> tuple[list[str], list[str]]:
    """What keeps a trail from covering the account: (known shortfalls, unknown facts)."""
    missing, unknown = [], []
    wanted: tuple[tuple[str, Any, str], ...] = (
        ("is_multi_region", True, "not multi-region"),
        ("is_logging", True, "not logging"),
        ("management_events", "All", "does not record all (read and write) management events"),
    )
    for attr, value, text in wanted:
        actual = trail.attr(attr)
        if actual is None:
            unknown.append(attr)
        elif actual != value:
            missing.append(text)
    return missing, unknown


@check("aws.audit.multi_region_trail_logging", Severity.HIGH, (Principle.AUDITABLE,),
       reads={TRAIL, f"{TRAIL}#status", f"{TRAIL}#selectors", ORG_ACCOUNT})
def multi_region_trail_logging(ctx: CheckContext) -> Iterator[Result]:
    """A multi-region CloudTrail trail is logging all management events

    Without an all-region trail recording reads and writes, API activity in unused regions and
    reconnaissance calls leave no record for investigation. A member of an organisation is covered
    by an organisation trail that is multi-region and logging; when the organisation's trails could
    not be read, an account without a trail of its own is inconclusive.

    Remediation: Create (or fix) a multi-region trail with logging on and management events set to
    read and write (an organization trail covers every member account).
    """
    trails = ctx.inventory.of(TRAIL)
    members = {str(a.attr("id") or a.account): a for a in ctx.inventory.of(ORG_ACCOUNT)}
    for acct in ctx.inventory.meta.accounts:
        subject = ctx.account(acct)
        mine = [t for t in trails if t.account == acct]
        verdicts = {t.uid: _shortfalls(t) for t in mine}
        good = sorted(uid for uid, verdict in verdicts.items() if verdict == ([], []))
        if good:
            yield ctx.passed(subject, "multi-region trail logs all management events",
                             trails=good)
            continue
        evidence = {uid: {"shortfalls": m, "unknown": u} for uid, (m, u) in verdicts.items()}
        gaps = [e.describe() for e in ctx.inventory.errors_affecting(ctx.spec.reads)
                if e.account in (acct, "*")]
        undecided = any(u and not m for m, u in verdicts.values()) or bool(gaps)
        if acct in members:
            found = _organization_trail(ctx, subject, members[acct], evidence, undecided)
            if found is not None:
                yield found
                continue
        if undecided:
            yield ctx.unknown(subject, "no trail is known to cover all regions and management "
                              "events; some trail data was not collected",
                              trails=evidence, collection_errors=gaps)
        elif mine:
            yield ctx.fail(subject, "no trail is multi-region, logging and recording all "
                           "management events", trails=evidence)
        else:
            yield ctx.fail(subject, "no CloudTrail trail exists")


def _organization_trail(
    ctx: CheckContext, subject: Subject, member: Asset, own: dict[str, Any], undecided: bool
) -> Result | None:
    """A member of an organisation without a trail of its own known to cover it: an
    organisation trail that is multi-region and logging covers it (PASS), one that is not
    leaves it unaudited (FAIL); organisation trails that could not be read decide nothing.
    None: the account's own trail data decides (some of it was not collected)."""
    org_trails = member.attr("organization_trails")
    if org_trails is None:
        what = "its own trails fall short" if own else "it has no trail of its own"
        return ctx.unknown(subject, f"{what}, and the organisation's trails could not be read",
                           trails=own)
    covering = [t for t in org_trails if t.get("logging") and t.get("multi_region")]
    if covering:
        names = ", ".join(str(t.get("name")) for t in covering)
        return ctx.passed(subject, f"covered by organisation trail {names} (multi-region, "
                          "logging)", organization_trails=covering, trails=own)
    if undecided:
        return None
    if org_trails:
        gaps = [f"{t.get('name')}: " + ", ".join(
            x for x, ok in (("not multi-region", t.get("multi_region")),
                            ("not logging", t.get("logging"))) if not ok) for t in org_trails]
        return ctx.fail(subject, "the organisation trail does not cover the account ("
                        f"{'; '.join(gaps)}) and no trail of its own does",
                        organization_trails=org_trails, trails=own)
    if own:
        return ctx.fail(subject, "no trail is multi-region, logging and recording all "
                        "management events, and the organisation has no trail", trails=own)
    return ctx.fail(subject, "no CloudTrail trail exists (neither the account's nor the "
                    "organisation's)")


@check("aws.audit.trail_log_validation_enabled", Severity.MEDIUM, (Principle.AUDITABLE,),
       reads={f"{TRAIL}#listing"})
def trail_log_validation_enabled(ctx: CheckContext) -> Iterator[Result]:
    """CloudTrail log file validation is enabled

    Digest files prove that delivered log files were not modified or deleted.

    Remediation: Enable log file validation on the trail (`--enable-log-file-validation`).
    """
    for trail in ctx.inventory.of(TRAIL):
        enabled = trail.attr("log_file_validation")
        if enabled is None:
            yield ctx.unknown(trail, "log file validation setting unknown")
        elif enabled:
            yield ctx.passed(trail, "log file validation is enabled")
        else:
            yield ctx.fail(trail, "log file validation is disabled",
                           s3_bucket_name=trail.attr("s3_bucket_name"))


@check("aws.audit.trail_kms_encrypted", Severity.MEDIUM,
       (Principle.AUDITABLE, Principle.ENCRYPTION_AT_REST), reads={f"{TRAIL}#listing"})
def trail_kms_encrypted(ctx: CheckContext) -> Iterator[Result]:
    """CloudTrail logs are encrypted with a KMS key

    With SSE-KMS, reading the logs needs both S3 read access and kms:Decrypt on the key, so a
    bucket permission mistake alone does not expose the account's API history.

    Remediation: Set a customer-managed KMS key on the trail (`aws cloudtrail update-trail
    --kms-key-id <key>`) whose policy lets CloudTrail encrypt and only the security team decrypt.
    """
    for trail in ctx.inventory.of(TRAIL):
        key = trail.attr("kms_key_id")
        if key:
            yield ctx.passed(trail, "log files are encrypted with a KMS key", kms_key_id=key)
        else:
            yield ctx.fail(trail, "log files are not encrypted with a KMS key (SSE-S3 only)",
                           s3_bucket_name=trail.attr("s3_bucket_name"))


@check("aws.audit.vpc_flow_logs_enabled", Severity.MEDIUM, (Principle.AUDITABLE,),
       reads={f"{VPC}#listing", FLOW_LOG})
def vpc_flow_logs_enabled(ctx: CheckContext) -> Iterator[Result]:
    """Every VPC has an active flow log

    Flow logs are the only record of which addresses talked to which hosts; without them an
    intrusion or exfiltration path cannot be reconstructed. Only flow logs on the VPC itself count
    (subnet or interface logs cover part of it).

    Remediation: Create a VPC flow log (at least REJECT traffic, ALL preferred) to CloudWatch Logs
    or S3: `aws ec2 create-flow-logs --resource-type VPC --resource-ids <vpc> --traffic-type ALL
    ...`.
    """
    active: dict[tuple[str, str, str], list[Asset]] = {}
    for flow in ctx.inventory.of(FLOW_LOG):
        if flow.attr("status") == "ACTIVE":
            key = (flow.account, flow.region, str(flow.attr("resource_id")))
            active.setdefault(key, []).append(flow)
    listing_gaps = [e for e in ctx.inventory.errors_affecting({FLOW_LOG})
                    if e.resource_uid is None]
    for vpc in ctx.inventory.of(VPC):
        logs = active.get((vpc.account, vpc.region, str(vpc.attr("vpc_id"))), [])
        if not logs and any(e.covers(vpc.account, vpc.region) for e in listing_gaps):
            yield ctx.unknown(vpc, "flow logs of the region could not be listed")
        elif logs:
            yield ctx.passed(vpc, f"{len(logs)} active flow log(s)",
                             flow_logs=[{"id": f.attr("flow_log_id"),
                                         "traffic_type": f.attr("traffic_type"),
                                         "destination": f.attr("destination")} for f in logs])
        else:
            yield ctx.fail(vpc, "no active flow log on the VPC")


def _log_buckets(inventory: Inventory) -> dict[str, list[str]]:
    """Bucket name -> the log sources writing to it (trails, flow logs, load balancers)."""
    out: dict[str, set[str]] = {}
    for trail in inventory.of(TRAIL):
        if trail.attr("s3_bucket_name"):
            out.setdefault(str(trail.attr("s3_bucket_name")), set()).add(trail.uid)
    for flow in inventory.of(FLOW_LOG):
        dest = str(flow.attr("destination") or "")
        if flow.attr("destination_type") == "s3" and dest.startswith("arn:aws:s3:::"):
            out.setdefault(dest.removeprefix("arn:aws:s3:::").split("/")[0], set()).add(flow.uid)
    for lb in inventory.of(LOAD_BALANCER):
        if lb.attr("access_logs_enabled") and lb.attr("access_logs_bucket"):
            out.setdefault(str(lb.attr("access_logs_bucket")), set()).add(lb.uid)
    return {k: sorted(v) for k, v in out.items()}


@check("aws.audit.log_bucket_access_logging", Severity.MEDIUM, (Principle.AUDITABLE,),
       reads={f"{TRAIL}#listing", FLOW_LOG, f"{LOAD_BALANCER}#attributes", f"{BUCKET}#logging"})
def log_bucket_access_logging(ctx: CheckContext) -> Iterator[Result]:
    """Buckets that hold logs record their own access (S3 server access logging)

    Whoever reads or deletes audit logs should leave a trace too. Log buckets are the targets of
    CloudTrail trails, S3 flow logs and load balancer access logs; a target bucket outside the
    inventory (e.g. a central log-archive account) is INCONCLUSIVE.

    Remediation: Enable server access logging on the log bucket, to a separate access-log bucket
    (`aws s3api put-bucket-logging`).
    """
    buckets = {str(b.attr("bucket_name") or b.name): b for b in ctx.inventory.of(BUCKET)}
    for name, sources in sorted(_log_buckets(ctx.inventory).items()):
        bucket = buckets.get(name)
        if bucket is None:
            acct = ctx.inventory.meta.accounts[0] if ctx.inventory.meta.accounts else "unknown"
            subject = Subject(f"arn:aws:s3:::{name}", BUCKET, name, acct, "global")
            yield ctx.unknown(subject, "log bucket is not in the inventory (another account?)",
                              log_sources=sources)
            continue
        enabled = bucket.attr("logging_enabled")
        if enabled is None:
            yield ctx.unknown(bucket, "bucket logging configuration unknown", log_sources=sources)
        elif enabled:
            yield ctx.passed(bucket, f"access logging to {bucket.attr('logging_target')}",
                             log_sources=sources)
        else:
            yield ctx.fail(bucket, f"holds logs of {len(sources)} source(s) but does not log "
                           "its own access", log_sources=sources)


@check("aws.audit.lb_access_logs_enabled", Severity.MEDIUM, (Principle.AUDITABLE,),
       reads={f"{LOAD_BALANCER}#listing", f"{LOAD_BALANCER}#attributes"},
       params={"severity": "medium"})
def lb_access_logs_enabled(ctx: CheckContext) -> Iterator[Result]:
    """Load balancers write access logs

    Access logs record every request (client address, path, TLS protocol, response), the evidence
    needed to investigate an attack on a public endpoint. Gateway load balancers have no access
    logs. The `severity` parameter sets how much a missing log counts.

    Remediation: Enable access logs (`aws elbv2 modify-load-balancer-attributes --attributes
    Key=access_logs.s3.enabled,Value=true Key=access_logs.s3.bucket,Value=<bucket>`).
    """
    for lb in ctx.inventory.of(LOAD_BALANCER):
        if lb.attr("lb_type") == "gateway":
            continue
        enabled = lb.attr("access_logs_enabled")
        if enabled is None:
            yield ctx.unknown(lb, "access log setting unknown")
        elif enabled:
            yield ctx.passed(lb, f"access logs go to {lb.attr('access_logs_bucket')}")
        else:
            yield ctx.fail(lb, "access logs are disabled", scheme=lb.attr("scheme"))
