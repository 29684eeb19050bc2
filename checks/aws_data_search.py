"""OpenSearch Service domains (OpenSearch and legacy Elasticsearch): who can reach and query a
domain (VPC placement, the access policy evaluated by posture's IAM evaluator, fine-grained
access control), encryption at rest and between nodes, HTTPS with TLS 1.2, audit logs."""

from __future__ import annotations

import re
from collections.abc import Iterator

from posture.checks._shared import flag_result
from posture.checks.aws_serverless import world

from posture.engine import CheckContext, Result
from posture.iam.evaluate import Decision
from posture.model import Principle, Severity
from posture.registry import check

DOMAIN = "AWS::OpenSearchService::Domain"
HTTP_ACTIONS = ("es:ESHttpGet", "es:ESHttpPost", "es:ESHttpPut", "es:ESHttpDelete")


@check("aws.data.opensearch_domain_not_public", Severity.CRITICAL,
       (Principle.DEFENSE_IN_DEPTH, Principle.LEAST_PRIVILEGE), reads={DOMAIN})
def opensearch_domain_not_public(ctx: CheckContext) -> Iterator[Result]:
    """OpenSearch domains are not open to anyone on the internet

    A domain outside a VPC has a public endpoint; its access policy decides who may send
    requests, unsigned ones included. The policy is evaluated for an arbitrary outside principal
    (an aws:SourceIp allow-list admits no arbitrary caller). Open to anyone without fine-grained
    access control, every index can be read, written and deleted (CRITICAL); with fine-grained
    access control, a user's credentials are still required (MEDIUM). A VPC domain is reachable
    only from its network.

    Remediation: Recreate the domain in a VPC, or restrict the access policy to named IAM
    principals or source ranges, and turn on fine-grained access control.
    """
    for domain in ctx.inventory.of(DOMAIN):
        if domain.attr("in_vpc"):
            yield ctx.passed(domain, f"VPC domain: reachable only from VPC "
                             f"{domain.attr('vpc_id')} and networks that route to it",
                             security_group_ids=domain.attr("security_group_ids"))
            continue
        if not domain.attr("access_policy_present"):
            yield ctx.passed(domain, "public endpoint, but no access policy grants anyone: only "
                             "IAM principals of the account allowed by their own policies")
            continue
        resource = f"{domain.attr('arn')}/posture-probe/_search"
        verdicts = {a: world(domain.attr("access_policy"), f"{domain.uid}#access_policy", a,
                             resource) for a in HTTP_ACTIONS}
        allowed = [a for a, v in verdicts.items() if v.allowed]
        maybe = [a for a, v in verdicts.items() if v.decision == Decision.CONDITIONAL]
        evidence = {a: v.evidence() for a, v in verdicts.items()}
        fgac, anonymous = domain.attr("fine_grained_access_control"), domain.attr("anonymous_auth")
        if allowed and fgac and not anonymous:
            yield ctx.fail_at(Severity.MEDIUM, domain, f"public endpoint whose access policy "
                              f"admits anyone ({', '.join(allowed)}); fine-grained access "
                              "control still asks for a user's credentials", policy=evidence)
        elif allowed:
            yield ctx.fail(domain, f"public endpoint whose access policy lets anyone on the "
                           f"internet {', '.join(allowed)} without credentials", policy=evidence)
        elif maybe:
            yield ctx.unknown(domain, "public endpoint whose access policy may admit anyone, "
                              "under conditions that cannot be decided", policy=evidence)
        else:
            yield ctx.passed(domain, "public endpoint, but the access policy admits no "
                             "arbitrary caller", policy=evidence)


@check("aws.data.opensearch_encrypted_at_rest", Severity.MEDIUM,
       (Principle.ENCRYPTION_AT_REST,), reads={DOMAIN})
def opensearch_encrypted_at_rest(ctx: CheckContext) -> Iterator[Result]:
    """OpenSearch domains are encrypted at rest

    Without it the indices, logs, swap and automated snapshots are stored in clear.

    Remediation: Enable encryption at rest (`aws opensearch update-domain-config --domain-name
    <d> --encryption-at-rest-options Enabled=true,KmsKeyId=<key>`).
    """
    for domain in ctx.inventory.of(DOMAIN):
        yield flag_result(ctx, domain, domain.attr("encryption_at_rest"),
                          "encryption at rest unknown", "encrypted at rest",
                          "indices and snapshots are not encrypted at rest",
                          passed_evidence={"kms_key_id": domain.attr("kms_key_id")})


@check("aws.data.opensearch_node_to_node_encrypted", Severity.MEDIUM,
       (Principle.ENCRYPTION_IN_TRANSIT,), reads={DOMAIN})
def opensearch_node_to_node_encrypted(ctx: CheckContext) -> Iterator[Result]:
    """OpenSearch domains encrypt traffic between their nodes

    Without node-to-node encryption, shards and queries travel between the domain's nodes in
    clear inside the VPC.

    Remediation: Enable node-to-node encryption (`aws opensearch update-domain-config
    --domain-name <d> --node-to-node-encryption-options Enabled=true`).
    """
    for domain in ctx.inventory.of(DOMAIN):
        yield flag_result(ctx, domain, domain.attr("node_to_node_encryption"),
                          "node-to-node encryption unknown", "node-to-node traffic is encrypted",
                          "node-to-node traffic is not encrypted")


def tls_minimum(policy: str | None) -> str | None:
    """The lowest TLS version of a domain TLS policy (``Policy-Min-TLS-1-2-2019-07`` → 1.2)."""
    match = re.match(r"^Policy-Min-TLS-1-(\d)", policy or "")
    return f"1.{match.group(1)}" if match else None


@check("aws.data.opensearch_https_enforced", Severity.MEDIUM,
       (Principle.ENCRYPTION_IN_TRANSIT,), reads={DOMAIN})
def opensearch_https_enforced(ctx: CheckContext) -> Iterator[Result]:
    """OpenSearch domains require HTTPS with TLS 1.2 or newer

    Without EnforceHTTPS the endpoint answers plain HTTP (credentials and documents in clear);
    the TLS policy Policy-Min-TLS-1-0-2019-07 still accepts TLS 1.0 and 1.1 (RFC 8996). The
    minimum is read from the policy's name.

    Remediation: `aws opensearch update-domain-config --domain-name <d>
    --domain-endpoint-options EnforceHTTPS=true,TLSSecurityPolicy=Policy-Min-TLS-1-2-PFS-2023-10`.
    """
    for domain in ctx.inventory.of(DOMAIN):
        https, policy = domain.attr("enforce_https"), domain.attr("tls_security_policy")
        minimum = tls_minimum(policy)
        evidence = {"enforce_https": https, "tls_security_policy": policy}
        if https is None:
            yield ctx.unknown(domain, "endpoint options unknown", **evidence)
        elif not https:
            yield ctx.fail(domain, "HTTPS is not enforced: the endpoint accepts plain HTTP",
                           **evidence)
        elif minimum is None:
            yield ctx.unknown(domain, f"cannot tell the TLS minimum of policy {policy}",
                              **evidence)
        elif minimum < "1.2":
            yield ctx.fail(domain, f"HTTPS enforced, but TLS policy {policy} accepts TLS "
                           f"{minimum}", **evidence)
        else:
            yield ctx.passed(domain, f"HTTPS enforced with TLS {minimum} or newer ({policy})",
                             **evidence)


@check("aws.data.opensearch_audit_logs_enabled", Severity.LOW, (Principle.AUDITABLE,),
       reads={DOMAIN})
def opensearch_audit_logs_enabled(ctx: CheckContext) -> Iterator[Result]:
    """OpenSearch domains publish audit logs

    Audit logs (available with fine-grained access control) record who searched, read and
    changed which index; without them a data leak from the domain leaves no trace.

    Remediation: Turn on fine-grained access control, then publish AUDIT_LOGS to CloudWatch Logs
    (`aws opensearch update-domain-config --log-publishing-options
    AUDIT_LOGS={CloudWatchLogsLogGroupArn=<arn>,Enabled=true}`).
    """
    for domain in ctx.inventory.of(DOMAIN):
        yield flag_result(ctx, domain, domain.attr("audit_logs_enabled"),
                          "audit log settings unknown", "audit logs are published",
                          "audit logs are not published",
                          failed_evidence={"fine_grained_access_control":
                                           domain.attr("fine_grained_access_control")})
