"""Seeded synthetic estates for the benchmarks, in the asset shapes the collectors produce: the
configuration is shared the way real estates share it (docs/azure-assets.md, docs/gcp-assets.md).

- ``estates.azure.azure_estate(vms)``: VMs in peered VNets behind subnet and NIC NSGs, load
  balancers and a firewall;
- ``estates.gcp.gcp_estate(instances)``: instances in a few networks behind VPC firewall rules,
  hierarchical and network firewall policies, routes and load balancers;
- ``estates.aws.aws_estate(instances)``: EC2 instances in VPCs behind security groups and network
  ACLs, and network load balancers.

Shared here: the port specifications rules draw from, and the scan metadata. The estates build
their assets with the test suite's builders where it has them (``support``, in ``tests/``, is put on
``sys.path`` here), so a benchmark's asset is the shape the tests pin.
"""

from __future__ import annotations

import sys
from pathlib import Path

from posture.model import Provider, ScanMeta

TESTS = Path(__file__).resolve().parents[2] / "tests"
if str(TESTS) not in sys.path:
    sys.path.append(str(TESTS))

PORTS = [
    "22",
    "3389",
    "5985-5986",
    "1433",
    "3306",
    "5432",
    "6379",
    "27017",
    "80",
    "443",
    "8080",
    "22,3389",
    "1024-65535",
    "*",
]


def meta(provider: Provider, account: str, regions: tuple[str, ...]) -> ScanMeta:
    return ScanMeta(
        "bench",
        provider,
        "bench",
        "2026-01-01T00:00:00+00:00",
        "2026-01-01T00:00:01+00:00",
        (account,),
        regions,
    )
