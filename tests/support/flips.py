"""The brute force behind the defense-depth property tests of every cloud: edit an inventory one
layer at a time ("flips", as docs/reachability.md defines them) and find the fewest flips that
expose a port."""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable, Iterable

from posture.model import Asset, Inventory

Flip = Callable[[Inventory], Inventory]


def edited(
    inv: Inventory,
    pick: Callable[[Asset], bool],
    change: Callable[[dict], None],
    extra: Iterable[Asset] = (),
    drop: Callable[[Asset], bool] = lambda a: False,
) -> Inventory:
    """``inv`` with ``change`` applied to a deep copy of the attrs of every asset ``pick``
    selects, the assets ``drop`` selects removed and ``extra`` added at the end."""
    assets = []
    for a in inv.assets:
        if drop(a):
            continue
        if pick(a):
            attrs = copy.deepcopy(dict(a.attrs))
            change(attrs)
            a = Asset(a.uid, a.provider, a.type, a.account, a.region, a.name, a.tags, attrs)
        assets.append(a)
    return Inventory(meta=inv.meta, assets=(*assets, *extra), errors=inv.errors)


def least_flips(inv: Inventory, exposed: Callable[[Inventory], bool], flips: Iterable[Flip]) -> int:
    """0, 1 or 2 flips (the least that exposes the port), else 3 meaning "3 or more"."""
    if exposed(inv):
        return 0
    universe = list(flips)
    for k in (1, 2):
        for combo in itertools.combinations(universe, k):
            changed = inv
            for flip in combo:
                changed = flip(changed)
            if exposed(changed):
                return k
    return 3
