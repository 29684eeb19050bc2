"""What several check modules share and that needs the run's context: the per-run derived graphs
(built once per audit through :meth:`~posture.engine.CheckContext.derived`) and common wording.

The semantics themselves live in ``posture.graph``, ``posture.iam`` and ``posture.attack``; this
module only names the cached instances so every check of a run sees the same one, and words the
verdicts several modules share.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from posture.attack.path import AttackPath, Power, Reached
from posture.engine import CheckContext, Result
from posture.graph.depth import Depth, Layer, depth_evidence, depth_text
from posture.graph.gcp.exposure import Estate
from posture.iam.graph import IdentityGraph, build_identity_graph
from posture.model import Asset, Severity
from posture.net import service_label


def identity(ctx: CheckContext) -> IdentityGraph:
    """The run's AWS identity graph."""
    return ctx.derived("aws.identity", build_identity_graph)


def gcp_estate(ctx: CheckContext) -> Estate:
    """The run's GCP network estate (firewall chains, routes, load balancers)."""
    return ctx.derived("gcp.network.estate", Estate.of)


def pairs(value: Any) -> list[tuple[str, Any]]:
    """A parameter given as a mapping or as a sequence of pairs."""
    return list(value.items()) if isinstance(value, Mapping) else [tuple(p) for p in value]


def port_classes(ctx: CheckContext) -> dict[int, str]:
    """port -> its class (the first class of the ``port_classes`` parameter listing it)."""
    out: dict[int, str] = {}
    for name, ports in pairs(ctx.param("port_classes")):
        for p in ports:
            out.setdefault(int(p), str(name))
    return out


def class_severity(ctx: CheckContext, klass: str) -> Severity:
    """The severity of a port class (parameter ``class_severity``; the check's own by default)."""
    table = {str(k): v for k, v in pairs(ctx.param("class_severity"))}
    return Severity.parse(str(table.get(klass, ctx.spec.severity.label)))


@dataclass(frozen=True, slots=True)
class DepthWording:
    """How one cloud's defense-depth finding names its layers.

    ``blocker``: a blocking layer in words; ``rank``: the cloud's tie-break between ports of the
    same depth and class (lower first); ``through``: the open layers of the best path in words
    ("" when a cloud does not say them); ``where``: appended to the port in the undecided message.
    """

    blocker: Callable[[Layer], str]
    rank: Callable[[Depth], Any]
    through: Callable[[Sequence[Layer]], str] | None = None
    explain: bool = False
    name_host: bool = False


def depth_finding(
    ctx: CheckContext,
    asset: Asset,
    depths: Sequence[Depth],
    classes: Mapping[int, str],
    need: int,
    wording: DepthWording,
) -> Result | None:
    """The defense-depth finding of one asset over its sensitive ports (None: a port is exposed,
    which the exposure checks report with evidence depth 0)."""
    if any(d.depth == 0 for d in depths):
        return None
    where = f" on {asset.name}" if wording.name_host else ""
    undecided = [d for d in depths if d.depth is None and d.at_least < need]
    if undecided:
        d = undecided[0]
        return ctx.unknown(
            asset,
            f"cannot decide the defense depth of {service_label(d.port)}{where}: {d.unknown} "
            f"(at least {d.at_least} layer(s))",
            undecided=sorted({str(x.unknown) for x in undecided}),
            depth=None,
            depth_at_least=min(x.at_least for x in undecided),
        )

    def severity(d: Depth) -> Severity:
        return class_severity(ctx, classes.get(d.port, "database"))

    def rank(d: Depth) -> tuple[Any, ...]:
        level = d.depth if d.depth is not None else d.at_least
        return (level, -int(severity(d)), wording.rank(d), d.port)

    weakest = min(depths, key=rank)
    if wording.explain and weakest.best is not None:
        weakest = replace(weakest, best=weakest.best.explained())
    evidence = {
        **depth_evidence(weakest),
        "port": weakest.port,
        "depth_by_port": {str(d.port): depth_text(d) for d in depths},
    }
    best = weakest.best
    changes = best.changes if best is not None else ()
    blockers = "; ".join(wording.blocker(x) for x in changes)
    what = f"{service_label(weakest.port)} on {asset.name}"
    short = [d for d in depths if d.depth is not None and d.depth < need]
    if not short:
        level = weakest.depth if weakest.depth is not None else f">= {weakest.at_least}"
        return ctx.passed(
            asset,
            f"every sensitive port is at depth >= {need}; the weakest, {what}, is at depth "
            f"{level}" + (f": {blockers}" if blockers else ""),
            **evidence,
        )
    others = sorted({d.port for d in short} - {weakest.port})
    also = ""
    if others:
        more = f" (+{len(others) - 5} more)" if len(others) > 5 else ""
        also = f" Also below depth {need}: tcp/{', '.join(map(str, others[:5]))}{more}."
    through = wording.through(best.layers) if wording.through and best is not None else ""
    through = f"; open: {through}" if through else ""
    if len(changes) == 1:
        message = (
            f"only {blockers} keeps {what} from the internet{through}; one change exposes it: "
            f"{changes[0].change}.{also}"
        )
    else:
        message = (
            f"only {len(changes)} layers keep {what} from the internet (required: {need}): "
            f"{blockers}{through}.{also}"
        )
    return ctx.fail_at(max(severity(d) for d in short), asset, message, **evidence)


def flag_result(
    ctx: CheckContext,
    asset: Asset,
    flag: Any,
    unknown: str,
    passed: str,
    failed: str,
    passed_evidence: Mapping[str, Any] | None = None,
    failed_evidence: Mapping[str, Any] | None = None,
) -> Result:
    """The verdict on a setting read as one attribute: INCONCLUSIVE when it is None (not
    collected), PASS when truthy, FAIL when falsy."""
    if flag is None:
        return ctx.unknown(asset, unknown)
    if flag:
        return ctx.passed(asset, passed, **(passed_evidence or {}))
    return ctx.fail(asset, failed, **(failed_evidence or {}))


def no_policy_document(ctx: CheckContext, asset: Asset, attr: str) -> Result:
    """The verdict on a resource whose policy document ``attr`` is null: PASS when the collector
    saw that it has none (``<attr>_present`` is False), INCONCLUSIVE when it could not be read."""
    if asset.attr(f"{attr}_present") is False:
        return ctx.passed(asset, "no resource policy")
    return ctx.unknown(asset, "resource policy unknown")


PLAINTEXT_RATIONALE = (
    "Anyone who can describe the resource (a read-only role, a CI log, a support ticket) can "
    "read a secret stored in it in clear text, and it never rotates. Detection uses "
    "detect-secrets (keyword, cloud key, private key, token and basic-auth detectors) and "
    "recognises signed-URL signatures (Azure SAS, Cloud Storage, S3); findings show the "
    "secret's type, location and a keyed 8-hex-digit fingerprint, never the value."
)


def describe_secrets(hits: Sequence[Mapping[str, Any]], key_label: str = "variable") -> str:
    """The collector's verdicts in words: type (where, fingerprint); never a value."""
    parts = []
    for h in hits:
        where = [f"container {h['container']}"] if h.get("container") else []
        where += [f"extension {h['extension']}"] if h.get("extension") else []
        where += [f"{key_label} {h['key']}"] if h.get("key") else []
        where += [f"line {h['line']}"] if h.get("line") else []
        parts.append(f"{h.get('type')} ({', '.join(where) or 'location unknown'}, "
                     f"fingerprint {h.get('fingerprint')})")
    return "; ".join(parts)


def plaintext_secrets(
    ctx: CheckContext, asset: Asset, attr: str, where: str, key_label: str = "variable"
) -> Result:
    """FAIL on the detector's verdicts in ``attr``, PASS on none, INCONCLUSIVE when null (the
    text could not be read)."""
    hits = asset.attr(attr)
    if hits is None:
        return ctx.unknown(asset, f"{where} could not be read")
    if hits:
        return ctx.fail(
            asset,
            f"{len(hits)} plaintext secret(s) in {where}: {describe_secrets(hits, key_label)}",
            secrets=hits,
        )
    return ctx.passed(asset, f"no plaintext secret found in {where}")


def attack_finding(ctx: CheckContext, path: AttackPath, what: str = "host") -> Result:
    """The verdict on one host's attack path (internet → port → host → identity → admin):
    FAIL when both halves hold (CRITICAL; ``latent_severity`` when the identity is one change
    from administrator; ``<grade>_severity`` when its power is broad but short of administrator,
    e.g. ``contributor_severity``; ``gated_severity`` when the host cannot use its identity's
    power), PASS when either half is decidedly broken, INCONCLUSIVE when a half that would
    complete the path cannot be decided."""
    net, who, host = path.network, path.identity, path.host
    ident = {"identity": {"label": who.label, "state": who.state.value, "path": who.text,
                          **who.evidence}}
    if who.state is Power.NONE:
        return ctx.passed(host, f"no administrator identity: {who.text}", **ident)
    power = {
        Power.ADMIN: "administrator",
        Power.CONDITIONAL: "administrator under conditions",
        Power.BROAD: "broad power, short of administrator",
        Power.LATENT: "one change away from administrator",
        Power.LATENT_CONDITIONAL: "under conditions one change away from administrator",
        Power.UNKNOWN: "of unknown power",
    }[who.state]
    if who.state is Power.CONDITIONAL and who.grade:
        power = "broad power under conditions, short of administrator"
    runs = f"runs as {who.label} ({power}: {who.text})"
    if net.state is Reached.CLOSED:
        return ctx.passed(
            host, f"not reachable from the internet on any tcp port ({net.why}); it {runs}",
            **ident, **net.evidence)
    if net.state is Reached.UNDECIDED:
        return ctx.unknown(
            host, f"may be reachable from the internet ({net.why}); it {runs}",
            **ident, **net.evidence)
    lead = f"{what} reachable from the internet on {net.ports}"
    evidence = path.evidence()
    if who.state is Power.UNKNOWN:
        return ctx.unknown(host, f"{lead}; the power of its identity is unknown: {who.text}",
                           **evidence)
    if who.state in (Power.CONDITIONAL, Power.LATENT_CONDITIONAL):
        return ctx.unknown(host, f"{lead}; it {runs}", **evidence)
    either = f"Either half breaks it: {net.fix}; or {who.fix}." if who.fix else ""
    also = f" (exposed on {net.ports})" if net.ports != net.port else ""
    if who.state is Power.BROAD:
        return ctx.fail_at(
            Severity.parse(str(ctx.param(f"{who.grade}_severity"))), host,
            f"attack path: {path.summary()}{also}: a process compromised through {net.port} holds "
            f"{who.label}, {power} ({who.text}). {either}".strip(), **evidence)
    if who.gate and who.state is Power.LATENT:
        return ctx.passed(host, f"{lead}; it {runs}, but {who.gate} (two changes away)",
                          **evidence)
    if who.gate:
        return ctx.fail_at(
            Severity.parse(str(ctx.param("gated_severity"))), host,
            f"{lead} and it runs as {who.label}, administrator ({who.text}); only one layer "
            f"keeps a compromised process from it: {who.gate}. {either}".strip(), **evidence)
    if who.state is Power.LATENT:
        return ctx.fail_at(
            Severity.parse(str(ctx.param("latent_severity"))), host,
            f"latent attack path: {path.summary()}; {who.text}. {either}".strip(), **evidence)
    return ctx.fail(
        host,
        f"attack path: {path.summary()}{also}: a process compromised through {net.port} holds "
        f"{who.label}, administrator ({who.text}). {either}".strip(),
        **evidence,
    )
