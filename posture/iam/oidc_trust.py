"""Who on GitHub can obtain a cloud identity through GitHub Actions' OIDC tokens.

A workflow's token carries a ``sub`` claim GitHub builds from the run (GitHub's documented
"Example subject claims"): ``repo:OWNER/REPO:environment:NAME`` for a job that names an
environment, ``repo:OWNER/REPO:pull_request`` for a ``pull_request`` run (forks included: a fork's
pull request runs the fork author's code), ``repo:OWNER/REPO:ref:refs/heads/BRANCH`` or
``…:ref:refs/tags/TAG`` otherwise. A repository or organisation may customise the claim
(``job_workflow_ref``, ``repository_owner``, ``context``… joined by ``:`` in template order), and
*its owner chooses the template*: a subject that pins no repository or owner is one any
repository on GitHub can produce.

Rather than matching strings, :func:`classify` asks a trust (any three-valued predicate over a
subject claim: an AWS trust policy evaluated by :mod:`posture.iam.conditions`, an Azure federated
credential's exact subject) about *probe subjects*: an unrelated owner's repository, another
repository of each owner the trust names, a pull request, a new branch, a tag and a new
environment of each repository it names, each wildcard filled in. What the probes get in is the
trust's :class:`Breadth`; what is left is named exactly (the literal subjects admitted).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum

from posture.iam.actions import ActionCatalogue
from posture.iam.conditions import RequestContext, Truth, all_true
from posture.iam.policy import Effect, Policy, Statement

GITHUB_ISSUER = "token.actions.githubusercontent.com"
GITHUB_ISSUER_URL = f"https://{GITHUB_ISSUER}"
STS_AUDIENCE = "sts.amazonaws.com"
ASSUME = "sts:AssumeRoleWithWebIdentity"

OUTSIDER = "posture-probe-outsider/probe"
_WILD = re.compile(r"[*?]")
_REPO = re.compile(r"(?:^|:)repo:([^:/*?]+)/([^:*?]+)")
_OWNER = re.compile(r"(?:^|:)(?:repo:|repository_owner:)([^:/*?]+)")
_CONTEXTS = ("ref:refs/heads/main", "pull_request", "environment:production", "ref:refs/tags/v1")


class Breadth(IntEnum):
    """How much of GitHub a trust admits, broadest last."""

    NOTHING = 0  # no subject a workflow can present is admitted
    EXACT = 1  # literal subjects only: one repository's branch, tag or environment
    PATTERN = 2  # a wildcard left inside one repository (e.g. refs/heads/release/*)
    ENVIRONMENT = 3  # any environment of a repository (a workflow creates one by naming it)
    BRANCH = 4  # any branch or tag of a repository (anyone with write access pushes one)
    PULL_REQUEST = 5  # pull requests of a repository, forks' included
    WORKFLOW_CALLER = 6  # any repository calling a reusable workflow (custom job_workflow_ref)
    OWNER = 7  # any repository of an owner
    ANY_REPOSITORY = 8  # any repository on GitHub


@dataclass(frozen=True, slots=True)
class Admission:
    """What a trust admits: its breadth, the probes and subjects that decide it, in words."""

    breadth: Breadth
    who: str
    admitted: tuple[str, ...]  # literal subjects (or probes) admitted
    conditional: tuple[str, ...] = ()  # probes the trust may or may not admit (UNKNOWN)

    def evidence(self) -> dict[str, object]:
        out: dict[str, object] = {"breadth": self.breadth.name.lower(), "who": self.who,
                                  "admitted": list(self.admitted)}
        if self.conditional:
            out["conditional_on_probes"] = list(self.conditional)
        return out


def _outsider_variant(pattern: str) -> str:
    """``pattern`` with its owner replaced by an unrelated one (who keeps the repository name:
    anyone can create a repository of any name under their own account)."""
    text = re.sub(r"(^|:)(repo|repository):[^:/]+/", r"\1\2:posture-probe-outsider/", pattern)
    text = re.sub(r"(^|:)repository_owner:[^:]+", r"\1repository_owner:posture-probe-outsider",
                  text)
    text = re.sub(r"(^|:)(repository_owner_id|repository_id):[^:]+", r"\1\2:0", text)
    return _fill(text)


def _other_repo(pattern: str, owner: str) -> str:
    """``pattern`` naming another repository of ``owner`` (wildcards filled)."""
    text = re.sub(rf"(^|:)(repo|repository):{re.escape(owner)}/[^:]+",
                  rf"\1\2:{owner}/posture-probe-repo", pattern)
    return _fill(text)


def _fill(pattern: str) -> str:
    return _WILD.sub(lambda m: "posture-probe" if m.group() == "*" else "x", pattern)


def classify(admits: Callable[[str], Truth], patterns: Iterable[str]) -> Admission:
    """The :class:`Admission` of a trust: ``admits(subject)`` decides one subject claim;
    ``patterns`` are the subject values the trust names (conditions' values, a credential's
    subject), from which the owners and repositories to probe are read."""
    values = tuple(dict.fromkeys(patterns))
    unknown: list[str] = []

    def hits(probes: Iterable[str]) -> list[str]:
        out = []
        for p in dict.fromkeys(probes):
            t = admits(p)
            if t == Truth.TRUE:
                out.append(p)
            elif t == Truth.UNKNOWN:
                unknown.append(p)
        return out

    anyone = hits([f"repo:{OUTSIDER}:{c}" for c in _CONTEXTS]
                  + [_outsider_variant(v) for v in values])
    if anyone:
        callers = [p for p in anyone if "job_workflow_ref:" in p]
        if len(callers) == len(anyone):
            workflows = sorted({p.split("job_workflow_ref:", 1)[1].split(":", 1)[0]
                                for p in callers})
            return _done(Breadth.WORKFLOW_CALLER, "any repository that calls the reusable "
                         f"workflow {', '.join(workflows)} (anyone, if its repository is "
                         "public)", callers, unknown)
        return _done(Breadth.ANY_REPOSITORY, "any repository on GitHub, on any branch, "
                     "including pull requests", anyone, unknown)
    owners = sorted({m for v in values for m in _OWNER.findall(v)})
    wide = {o: hits([f"repo:{o}/posture-probe-repo:{c}" for c in _CONTEXTS]
                    + [_other_repo(v, o) for v in values if o in _OWNER.findall(v)])
            for o in owners}
    if any(wide.values()):
        named = [o for o, h in wide.items() if h]
        prs = any(p.endswith(":pull_request") for o in named for p in wide[o])
        return _done(Breadth.OWNER, f"any repository of {_owner_words(named)} on any branch"
                     + (", including pull requests" if prs else ""),
                     [p for o in named for p in wide[o]], unknown)
    repos = sorted({f"{o}/{r}" for v in values for o, r in _REPO.findall(v)})
    found: dict[Breadth, list[str]] = {}
    for repo in repos:
        for breadth, probe in (
            (Breadth.PULL_REQUEST, f"repo:{repo}:pull_request"),
            (Breadth.BRANCH, f"repo:{repo}:ref:refs/heads/posture-probe-branch"),
            (Breadth.BRANCH, f"repo:{repo}:ref:refs/tags/posture-probe-tag"),
            (Breadth.ENVIRONMENT, f"repo:{repo}:environment:posture-probe-environment"),
        ):
            found.setdefault(breadth, []).extend(hits([probe]))
    broad = sorted((b for b, h in found.items() if h), reverse=True)
    if broad:
        admitted = [p for b in broad for p in found[b]]
        return _done(broad[0], _repo_words(broad, admitted), admitted, unknown)
    filled = hits(_fill(v) for v in values if _WILD.search(v))
    if filled:
        pats = [v for v in values if _WILD.search(v) and _fill(v) in filled]
        return _done(Breadth.PATTERN, "subjects matching " + ", ".join(pats), pats, unknown)
    exact = hits(v for v in values if not _WILD.search(v))
    if exact:
        return _done(Breadth.EXACT, "only " + "; ".join(describe(s) for s in exact), exact,
                     unknown)
    return _done(Breadth.NOTHING, "no subject a GitHub workflow presents", [], unknown)


def _done(breadth: Breadth, who: str, admitted: Iterable[str], unknown: list[str]) -> Admission:
    return Admission(breadth, who, tuple(admitted), tuple(dict.fromkeys(unknown)))


def _owner_words(owners: list[str]) -> str:
    return ("owner " if len(owners) == 1 else "owners ") + ", ".join(owners)


def _repo_words(kinds: list[Breadth], admitted: list[str]) -> str:
    repos = sorted({p.split(":", 2)[1] for p in admitted})
    what = {Breadth.PULL_REQUEST: "pull requests (forks' included)",
            Breadth.BRANCH: "any branch or tag", Breadth.ENVIRONMENT: "any environment"}
    return f"{', '.join(repos)}: " + ", ".join(what[k] for k in kinds)


def describe(subject: str) -> str:
    """A literal GitHub subject claim in words."""
    m = re.fullmatch(r"repo:([^:]+):(.*)", subject)
    if m is None:
        return f"subject {subject}"
    repo, rest = m.groups()
    if rest.startswith("environment:"):
        return f"repository {repo}, environment {rest.split(':', 1)[1]}"
    if rest.startswith("ref:refs/heads/"):
        return f"repository {repo}, branch {rest[len('ref:refs/heads/'):]}"
    if rest.startswith("ref:refs/tags/"):
        return f"repository {repo}, tag {rest[len('ref:refs/tags/'):]}"
    if rest == "pull_request":
        return f"repository {repo}, pull requests"
    return f"repository {repo}, {rest}"


# --- AWS: a role's trust policy --------------------------------------------------------------


def github_provider(federated: str) -> str | None:
    """The issuer host/path of a GitHub Actions OIDC provider ARN (the public issuer or an
    enterprise's ``token.actions.githubusercontent.com/<slug>``), else None."""
    _, sep, url = federated.partition(":oidc-provider/")
    if sep and (url == GITHUB_ISSUER or url.startswith(f"{GITHUB_ISSUER}/")):
        return url
    return None


@dataclass(frozen=True, slots=True)
class RoleTrust:
    """A role's trust in one GitHub OIDC provider: who it admits and the statements involved."""

    provider: str  # the provider ARN named in the trust
    admission: Admission
    has_sub_condition: bool
    audiences: tuple[str, ...]  # the aud values the trust names (empty: not constrained)
    statements: tuple[Statement, ...]
    patterns: tuple[str, ...] = ()  # the sub values the conditions name
    # whether the trust admits a workflow token with this ``sub`` (aud sts.amazonaws.com)
    admits: Callable[[str], Truth] = field(default=lambda _: Truth.FALSE, compare=False,
                                           repr=False)

    def evidence(self) -> dict[str, object]:
        return {"provider": self.provider, **self.admission.evidence(),
                "sub_condition": self.has_sub_condition, "aud_values": list(self.audiences),
                "statements": [dict(s.raw) for s in self.statements]}


def github_trusts(policy: Policy, catalogue: ActionCatalogue) -> list[RoleTrust]:
    """Every GitHub OIDC provider the trust policy lets assume the role, judged by probes."""
    bit = catalogue.bit(ASSUME)
    relevant = [s for s in policy.statements
                if s.principal is not None and s.matches_action(ASSUME, bit)]
    providers = sorted({f for s in relevant if s.effect == Effect.ALLOW and not s.not_principal
                        for f in s.principal.federated if github_provider(f)})  # type: ignore[union-attr]
    out = []
    for arn in providers:
        url = str(github_provider(arn))
        allows = [s for s in relevant if s.effect == Effect.ALLOW and not s.not_principal
                  and arn in s.principal.federated]  # type: ignore[union-attr]
        denies = [s for s in relevant if s.effect == Effect.DENY and _denies(s, arn)]
        sub, aud = f"{url.lower()}:sub", f"{url.lower()}:aud"

        def admits(subject: str, allows: list[Statement] = allows,
                   denies: list[Statement] = denies, sub: str = sub, aud: str = aud) -> Truth:
            ctx = RequestContext({sub: (subject,), aud: (STS_AUDIENCE,)})
            allow = max((all_true(s.conditions, ctx) for s in allows), default=Truth.FALSE)
            deny = max((all_true(s.conditions, ctx) for s in denies), default=Truth.FALSE)
            return min(allow, ~deny)

        patterns = [v for s in allows + denies for c in s.conditions if c.key == sub
                    for v in c.values]
        out.append(RoleTrust(
            arn, classify(admits, patterns),
            any(c.key == sub for s in allows for c in s.conditions),
            tuple(dict.fromkeys(v for s in allows for c in s.conditions if c.key == aud
                                for v in c.values)),
            tuple(allows + denies),
            patterns=tuple(dict.fromkeys(patterns)),
            admits=admits,
        ))
    return out


def _denies(stmt: Statement, arn: str) -> bool:
    p = stmt.principal
    if p is None:
        return False
    named = p.wildcard or arn in p.federated
    return named != stmt.not_principal


def audience_note(client_ids: object) -> str | None:
    """Why a GitHub OIDC provider's client ids (audiences) are unusual, or None."""
    ids = [str(c) for c in client_ids] if isinstance(client_ids, list | tuple) else []
    other = [c for c in ids if c != STS_AUDIENCE]
    if not ids:
        return "no audience (client id) is registered"
    if other:
        return f"audience(s) {', '.join(other)} besides or instead of {STS_AUDIENCE}"
    return None


def breadth_of(by_subject: Mapping[str, Truth]) -> Admission:
    """The admission of a set of exact subjects (Azure federated credentials: no wildcards)."""
    return classify(lambda s: by_subject.get(s, Truth.FALSE), by_subject)


# --- GCP: a workload identity pool provider's attribute condition (a CEL subset) -------------

_CEL_TOKEN = re.compile(r"\s*('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|&&|\|\||==|!=|[!()\[\],]"
                        r"|[A-Za-z_][A-Za-z0-9_.]*)")
_METHODS = ("startsWith", "endsWith", "contains")
_CLAIMS = ("assertion.", "attribute.", "google.")
_ABSENT = "\x00absent"


def github_claims(subject: str) -> dict[str, str]:
    """The token claims of a workflow whose ``sub`` is ``subject`` (GitHub's standard format;
    an environment job's ref is any branch unless the environment restricts it)."""
    claims = {"sub": subject}
    m = re.fullmatch(r"repo:([^:/]+)/([^:]+):(.*)", subject)
    if m is None:
        return claims
    owner, repo, rest = m.groups()
    claims.update(repository=f"{owner}/{repo}", repository_owner=owner)
    if rest == "pull_request":
        claims.update(ref="refs/pull/1/merge", event_name="pull_request")
    elif rest.startswith("ref:"):
        claims.update(ref=rest[4:], event_name="push")
    elif rest.startswith("environment:"):
        claims.update(environment=rest[12:], ref="refs/heads/posture-probe-branch",
                      event_name="push")
    return claims


class _Cel:
    """Three-valued evaluation of the attribute-condition subset GitHub federation uses:
    ``==``, ``!=``, ``in [..]``, ``.startsWith/.endsWith/.contains('..')``, ``&&``, ``||``,
    ``!`` and parentheses over ``assertion.*`` / ``attribute.*``; anything else is UNKNOWN.
    A claim the token does not carry (``assertion.environment`` of a job without one) is a CEL
    error, which rejects the token: the comparison is FALSE, and so is a ``!`` above it."""

    def __init__(self, text: str, values: Mapping[str, str]) -> None:
        self.tokens: list[str] = []
        pos, text = 0, text.strip()
        while pos < len(text):
            m = _CEL_TOKEN.match(text, pos)
            if m is None:
                raise ValueError(text[pos:])
            self.tokens.append(m.group(1))
            pos = m.end()
        self.i, self.values, self.absent = 0, values, False

    def peek(self) -> str | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, want: str | None = None) -> str:
        tok = self.peek()
        if tok is None or (want is not None and tok != want):
            raise ValueError(f"expected {want}")
        self.i += 1
        return tok

    def run(self) -> Truth:
        out = self.or_()
        if self.peek() is not None:
            raise ValueError("trailing tokens")
        return out

    def or_(self) -> Truth:
        out = self.and_()
        while self.peek() == "||":
            self.take()
            out = max(out, self.and_())
        return out

    def and_(self) -> Truth:
        out = self.unary()
        while self.peek() == "&&":
            self.take()
            out = min(out, self.unary())
        return out

    def unary(self) -> Truth:
        if self.peek() == "!":
            self.take()
            before, self.absent = self.absent, False
            inner = self.unary()
            hit, self.absent = self.absent, before or self.absent
            return Truth.FALSE if hit else ~inner
        if self.peek() == "(":
            self.take()
            out = self.or_()
            self.take(")")
            return out
        return self.comparison()

    def operand(self) -> str | None:
        return self.lookup(self.take())

    def lookup(self, tok: str) -> str | None:
        if tok[0] in "'\"":
            return tok[1:-1]
        value = self.values.get(tok)
        if value is None and tok.startswith(_CLAIMS):
            self.absent = True
            return _ABSENT
        return value

    def comparison(self) -> Truth:
        tok = self.take()
        name, _, method = tok.rpartition(".")
        if method in _METHODS and self.peek() == "(":
            self.take("(")
            arg = self.operand()
            self.take(")")
            value = self.lookup(name)
            if value is _ABSENT or arg is _ABSENT:
                return Truth.FALSE
            if value is None or arg is None:
                return Truth.UNKNOWN
            return _tv(getattr(value, {"startsWith": "startswith", "endsWith": "endswith",
                                       "contains": "__contains__"}[method])(arg))
        left = self.lookup(tok)
        op = self.take()
        if op not in ("==", "!=", "in"):
            raise ValueError(f"unsupported operator {op}")
        if op == "in":
            self.take("[")
            items = [self.operand()]
            while self.peek() == ",":
                self.take()
                items.append(self.operand())
            self.take("]")
            if left is _ABSENT:
                return Truth.FALSE
            return Truth.UNKNOWN if left is None else _tv(left in items)
        right = self.operand()
        if left is _ABSENT or right is _ABSENT:
            return Truth.FALSE
        if left is None or right is None:
            return Truth.UNKNOWN
        return _tv((left == right) == (op == "=="))


def _tv(flag: bool) -> Truth:
    return Truth.TRUE if flag else Truth.FALSE


def cel_truth(condition: str | None, values: Mapping[str, str]) -> Truth:
    """An attribute condition over known ``assertion.*``/``attribute.*`` values (None or empty:
    no condition, TRUE); UNKNOWN where it leaves the subset posture evaluates."""
    if not condition or not condition.strip():
        return Truth.TRUE
    try:
        return _Cel(condition, values).run()
    except (ValueError, IndexError):
        return Truth.UNKNOWN


def mapped(mapping: Mapping[str, str], claims: Mapping[str, str]) -> dict[str, str]:
    """``assertion.*`` of the claims and the ``attribute.*``/``google.subject`` the provider's
    attribute mapping gives them (mappings other than a plain ``assertion.X`` stay unknown)."""
    values = {f"assertion.{k}": v for k, v in claims.items()}
    for target, expression in mapping.items():
        source = values.get(expression.strip())
        if source is not None:
            values[target] = source
    return values


def cel_literals(condition: str | None) -> tuple[str, ...]:
    """The subject patterns an attribute condition names: its repository, owner, ref and
    environment literals combined in GitHub's subject format, and literal subjects."""
    lits = [t[1:-1] for t in _CEL_TOKEN.findall(condition or "") if t[:1] in "'\""]
    subjects = [x for x in lits if x.startswith("repo:")]
    repos = [x for x in lits if "/" in x and not x.startswith(("refs/", "repo:"))]
    refs = [x for x in lits if x.startswith("refs/")] or ["refs/heads/main"]
    names = [x for x in lits if "/" not in x and ":" not in x]
    out = subjects + [f"repo:{o}/*:ref:refs/heads/*" for o in names]
    out += [f"repo:{r}:ref:{ref}" for r in repos for ref in refs]
    out += [f"repo:{r}:environment:{e}" for r in repos for e in names]
    return tuple(dict.fromkeys(out))
