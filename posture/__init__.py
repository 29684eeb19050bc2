"""posture: a cloud infrastructure posture auditor."""

__version__ = "0.1.0"
