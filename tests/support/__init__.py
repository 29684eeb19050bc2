"""Builders and helpers shared by the tests (importable from any depth: ``pythonpath = ["tests"]``).

Pure functions and constants only. Anything with set-up and tear-down (the moto server, the fake
cloud APIs, PostgreSQL, temporary folders) is a pytest fixture in a ``conftest.py``.

- ``support.model``: provider-neutral scan metadata, inventories, assets, collection errors
- ``support.aws``: AWS assets, inventories, collection errors, boto3 clients, the moto reset
- ``support.aws_net``: AWS network estates (VPC, subnets, routes, ACLs, groups, hosts, load
  balancers, bastions, RDS) for the reachability, exposure and depth tests
- ``support.aws_estates``: hypothesis strategies for random AWS estates (property tests)
- ``support.azure``, ``support.gcp``: Azure and GCP assets, inventories and small estates
- ``support.azure_collect``, ``support.gcp_collect``: collecting from the loopback fakes of ARM
  and Graph, and of the Google APIs (some calls refused)
- ``support.browser``: headless Chromium on a report, and the DOM it dumps
- ``support.cases``: named rows of test cases for ``pytest.mark.parametrize``
- ``support.checks``: run one catalogue check through the engine and pick out its findings
- ``support.collect``: collector scopes on the moto server, and a session denied some actions
- ``support.faults``: botocore-level fault injection (denied, refused and answered calls)
- ``support.fault_proxy``: a socket-level fault-injecting loopback front (5xx, Retry-After,
  throttling in each provider's error shape, dropped connections) by a seeded schedule
- ``support.flips``: the brute force of the defense-depth property tests (edit, count flips)
- ``support.org``: the organisation context of a member's snapshot; re-auditing an org scan
- ``support.properties``: the hypothesis settings of the property tests
- ``support.reports``: findings and reports for the reporter tests
- ``support.pg``: start a throwaway PostgreSQL server (used by ``history/conftest.py``)
- ``support.reference``: the packet-by-packet AWS reachability reference
"""

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
"""The repository root (pyproject.toml, docs/, fixtures/), whatever the depth of the test."""
FIXTURES = REPO / "fixtures"
DEMO = FIXTURES / "demo"
"""The AWS demo account: its golden snapshot and findings."""
