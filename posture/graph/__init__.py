"""Reachability: which assets the internet (or another network) reaches, on which ports, how.

The core (:mod:`.intervals`, :mod:`.core`, :mod:`.paths`) is provider-neutral; adapters
(:mod:`.aws`, :mod:`.aws_rules`, :mod:`.aws_lb`) translate an inventory into it. See
docs/reachability.md.
"""

from posture.graph.core import Hop, Path
from posture.graph.intervals import IntervalSet
from posture.graph.paths import Attachment, Verdict

__all__ = ["Attachment", "Hop", "IntervalSet", "Path", "Verdict"]
