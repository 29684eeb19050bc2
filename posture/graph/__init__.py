"""Reachability: which assets the internet (or another network) reaches, on which ports, how.

This package is the provider-neutral core (:mod:`.intervals`, :mod:`.core`, :mod:`.paths`,
:mod:`.depth`); it imports no provider adapter. Each cloud's adapter (:mod:`.aws`, :mod:`.azure`,
:mod:`.gcp`) translates an inventory into it. See docs/reachability.md.
"""

from posture.graph.core import Hop, Path
from posture.graph.intervals import IntervalSet
from posture.graph.paths import Attachment, Verdict

__all__ = ["Attachment", "Hop", "IntervalSet", "Path", "Verdict"]
