"""Cloud Run and Cloud Functions checks: unauthenticated invocation judged by invoker and ingress
together (the trap: allUsers behind internal-only ingress is not internet-invocable), a 2nd gen
function judged by its Cloud Run service, HTTPS only, runtimes past deprecation, plaintext
secrets in the environment; each PASS, FAIL and not collected."""

from __future__ import annotations

from support.gcp import gcp_error, results, statuses
from support.gcp_platforms import function, run_service

from posture.gcp import FUNCTION, RUN_SERVICE
from posture.model import Severity, Status

INVOKE = "gcp.serverless.not_publicly_invocable"
PUBLIC = ("allUsers",)


def test_public_invoker_graded_by_ingress() -> None:
    found = results(
        INVOKE,
        run_service("open", invokers=PUBLIC),
        run_service("lb", invokers=("allAuthenticatedUsers",),
                    ingress="INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"),
        run_service("internal", invokers=PUBLIC, ingress="INGRESS_TRAFFIC_INTERNAL_ONLY"),
        run_service("private"))
    assert {n: (f.status, f.severity) for n, f in found.items()} == {
        "open": (Status.FAIL, Severity.HIGH), "lb": (Status.FAIL, Severity.MEDIUM),
        "internal": (Status.FAIL, Severity.LOW), "private": (Status.PASS, Severity.HIGH)}
    assert found["open"].message == (
        "anyone on the internet can invoke Cloud Run service open without authentication: "
        "ingress INGRESS_TRAFFIC_ALL admits the internet and allUsers (roles/run.invoker) may "
        "invoke it")
    assert found["lb"].evidence["via_load_balancer"] is True


def test_trap_all_users_invoker_behind_internal_ingress_is_not_internet_invocable() -> None:
    found = results(INVOKE, run_service("internal", invokers=PUBLIC,
                                        ingress="INGRESS_TRAFFIC_INTERNAL_ONLY"))
    f = found["internal"]
    assert (f.status, f.severity, f.evidence["state"]) == (Status.FAIL, Severity.LOW, "latent")
    assert f.message.startswith("not invocable from the internet: ingress "
                                "INGRESS_TRAFFIC_INTERNAL_ONLY admits only the project's VPC")
    assert "one change of ingress would open it to the internet" in f.message


def test_invoker_check_disabled_iap_and_intended_public_label() -> None:
    found = results(
        INVOKE,
        run_service("no-iam", invoker_iam_disabled=True),
        run_service("iap", invokers=PUBLIC, iap_enabled=True),
        run_service("site", invokers=PUBLIC, labels={"exposure": "public"}))
    assert found["no-iam"].status == Status.FAIL
    assert "anyone (the invoker IAM check is disabled)" in found["no-iam"].message
    assert found["iap"].status == Status.PASS
    assert found["iap"].message.endswith("(Identity-Aware Proxy)")
    assert found["site"].status == Status.PASS
    assert found["site"].message.startswith("public on purpose (label exposure=public)")


def test_second_gen_function_judged_by_its_run_service_once() -> None:
    found = results(INVOKE, function("thumb"), run_service("thumb", invokers=PUBLIC),
                    function("orphan"))
    # the service of a collected function is reported through the function
    assert set(found) == {"thumb", "orphan"}
    assert found["thumb"].status == Status.FAIL
    assert found["thumb"].evidence["decided_by"] == "thumb"
    assert "Cloud Function thumb" in found["thumb"].message
    assert found["orphan"].status == Status.INCONCLUSIVE
    assert "was not collected" in found["orphan"].message


def test_first_gen_function_and_event_trigger() -> None:
    found = results(
        INVOKE,
        function("hook", gen="GEN_1", invokers=PUBLIC, ingress="ALLOW_INTERNAL_ONLY"),
        function("open", gen="GEN_1", invokers=PUBLIC, ingress="ALLOW_ALL"),
        function("events", gen="GEN_1", invokers=PUBLIC, http_trigger=False))
    assert {n: (f.status, f.severity) for n, f in found.items()} == {
        "hook": (Status.FAIL, Severity.LOW), "open": (Status.FAIL, Severity.HIGH),
        "events": (Status.PASS, Severity.HIGH)}
    assert found["events"].message.endswith("event-triggered: no HTTP endpoint")


def test_invoker_policy_not_read_is_inconclusive() -> None:
    svc = run_service("svc", iam_bindings=None)
    gap = gcp_error("run", "services.getIamPolicy", (f"{RUN_SERVICE}#iam_policy",),
                    resource_uid=svc.uid, region="us-central1")
    found = results(INVOKE, svc, run_service("fine"), errors=(gap,))
    assert found["svc"].status == Status.INCONCLUSIVE
    assert found["fine"].status == Status.PASS
    listing = gcp_error("run", "services.list", (RUN_SERVICE,), region="us-central1")
    found = results(INVOKE, run_service("fine"), errors=(listing,))
    assert {f.status for f in found.values()} == {Status.INCONCLUSIVE}


HTTPS = "gcp.serverless.function_https_only"


def test_https_only() -> None:
    found = results(HTTPS, function("gen2"),
                    function("always", gen="GEN_1", security_level="SECURE_ALWAYS"),
                    function("optional", gen="GEN_1", security_level="SECURE_OPTIONAL"),
                    function("events", gen="GEN_1", http_trigger=False,
                             security_level="SECURE_OPTIONAL"))
    assert {n: f.status for n, f in found.items()} == {
        "gen2": Status.PASS, "always": Status.PASS, "optional": Status.FAIL}
    assert found["optional"].message == (
        "security level SECURE_OPTIONAL: https://us-central1-acme-test.cloudfunctions.net/"
        "optional also serves plain HTTP")
    gap = gcp_error("cloudfunctions", "functions.list", (FUNCTION,))
    assert {f.status for f in results(HTTPS, function("gen2"), errors=(gap,)).values()} == {
        Status.INCONCLUSIVE}


RUNTIME = "gcp.serverless.runtime_supported"


def test_runtime_deprecation_from_the_dated_table() -> None:
    found = results(
        RUNTIME, function("py"), function("node", runtime="nodejs18"),
        function("ruby", runtime="ruby33"), run_service("base", runtime="nodejs16"),
        run_service("own-image"))
    assert {n: f.status for n, f in found.items()} == {
        "py": Status.PASS, "node": Status.FAIL, "ruby": Status.INCONCLUSIVE,
        "base": Status.FAIL}  # a service on its own image is not subject to the schedule
    assert found["node"].message == ("runtime nodejs18 deprecated since 2025-04-30: no more "
                                     "security updates")
    assert "Cloud Run functions runtime support schedule" in found["ruby"].message
    gap = gcp_error("cloudfunctions", "functions.list", (FUNCTION,))
    assert statuses(RUNTIME, function("py"), errors=(gap,))["py"] == Status.INCONCLUSIVE


SECRETS = "gcp.serverless.env_no_plaintext_secrets"


def test_plaintext_secrets_in_the_environment() -> None:
    hit = {"type": "Basic Auth Credentials", "key": "DATABASE_URL", "line": None,
           "fingerprint": "c85c4036"}
    found = results(SECRETS, run_service("leaky", env_secrets=[hit]), run_service("clean"),
                    function("unread", env_secrets=None, gen="GEN_1"))
    assert {n: f.status for n, f in found.items()} == {
        "leaky": Status.FAIL, "clean": Status.PASS, "unread": Status.INCONCLUSIVE}
    assert found["leaky"].message == (
        "1 plaintext secret(s) in its environment variables: Basic Auth Credentials (variable "
        "DATABASE_URL, fingerprint c85c4036)")
    assert "postgres://" not in str(found["leaky"].evidence)
