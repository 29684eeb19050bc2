"""Whole organisations in one run: one task per member account (AWS account, GCP project, Azure
subscription), run in this process or on a Dask ``distributed`` cluster, each account's snapshot
written as it arrives beside a manifest, and the accounts' findings merged into one report.

The modules, from the bottom: :mod:`~posture.org.plan` (what to scan: frozen tasks, never a
credential), :mod:`~posture.org.task` (one account, on a worker), :mod:`~posture.org.manifest`
(the evidence directory), :mod:`~posture.org.executor` (where the tasks run),
:mod:`~posture.org.run` (the coordinator: scan or re-audit, merge) and
:mod:`~posture.org.report` (the merged run into the reporters). The providers' own parts are
:mod:`~posture.org.gcp` and :mod:`~posture.org.azure` (discovery with the context read once,
and the worker's collection); AWS discovery is :mod:`posture.collectors.aws.organizations`.
"""
