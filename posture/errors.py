"""One exception base for posture, one subclass per seam.

The CLI maps each subclass to an exit code and prints ``str(error)`` as a one-line message;
no traceback reaches a user for any of these.
"""

from __future__ import annotations


class PostureError(Exception):
    """Base of every error posture raises on purpose."""


class SnapshotError(PostureError):
    """A snapshot file is missing, unreadable, malformed or of another schema version."""


class CollectorError(PostureError):
    """A collector cannot start at all (no credentials, unreachable endpoint, unknown region).

    Failures of single API calls are *not* raised: they are recorded in the snapshot as
    :class:`posture.model.CollectionError` and the scan goes on.
    """


class CheckSelectionError(PostureError):
    """An unknown check id, principle or framework was asked for."""


class CatalogueError(PostureError):
    """The check catalogue itself is inconsistent (duplicate id, bad mapping file)."""


class ReportError(PostureError):
    """An unknown output format, or an output directory that cannot be written."""
