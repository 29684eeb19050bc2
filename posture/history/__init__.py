"""What posture remembers between runs and hands to an auditor: the scan history store
(:mod:`.store`, its tables and migrations in :mod:`.schema`), the differences between two
scans (:mod:`.diff`), accepted-risk exceptions (:mod:`.exceptions`), applying both to a
run's findings (:mod:`.tracking`) and the evidence folder (:mod:`.evidence`).

Layering: ``diff``, ``exceptions``, ``store`` and ``tracking`` sit below
:mod:`posture.pipeline` (the pipeline tracks every run, the reporters show exceptions and
history); ``evidence`` sits above the reporters (it writes them).
"""
