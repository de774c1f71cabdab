"""Small groups suppressed so that no individual can be singled out: the one rule survey breakdowns
and organization statistics share (`SURVEY_MIN_GROUP`, `STATS_MIN_GROUP`).

A breakdown never shows a group under the threshold on its own. Hiding only that group is not
enough: the total minus the shown groups would give it back. So the smallest other groups are
hidden with it until the hidden ones add up to the threshold at least (complementary suppression);
together they may then be shown as one "Other" group, which tells nothing more about anybody.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Final, TypeVar

Key = TypeVar("Key", str, int, date)


def hidden_groups(sizes: Mapping[Key, int], min_group: int) -> set[Key]:
    """The groups a breakdown does not show: those under `min_group`, and then the smallest others
    until the hidden ones add up to `min_group` at least. (The overall results minus the shown groups
    are the hidden ones together: hiding only a group of 2 would let anyone work out its answers.)"""
    hidden = {group for group, size in sizes.items() if size < min_group}
    total = sum(sizes[group] for group in hidden)
    for group, size in sorted(sizes.items(), key=lambda item: (item[1], item[0])):
        if 0 < total < min_group and group not in hidden:
            hidden.add(group)
            total += size
    return hidden


@dataclass
class Breakdown:
    """Counts per group as they may be shown: `shown` (largest first), and the hidden groups
    merged into `other` (`other_groups` of them; 0 and 0 when none is hidden)."""

    shown: list[tuple[str, int]] = field(default_factory=list)
    other: int = 0
    other_groups: int = 0

    @property
    def total(self) -> int:
        return sum(count for _, count in self.shown) + self.other


def breakdown(counts: Mapping[str, int], min_group: int) -> Breakdown:
    """`counts` with small groups merged into "Other" (groups of 0 are left out: they hide no one)."""
    sizes = {group: count for group, count in counts.items() if count > 0}
    hidden = hidden_groups(sizes, min_group)
    shown = sorted(
        ((group, count) for group, count in sizes.items() if group not in hidden),
        key=lambda item: (-item[1], item[0]),
    )
    return Breakdown(shown, sum(sizes[group] for group in hidden), len(hidden))


FEW: Final = "few"  # a value under the threshold: shown as "< 5"
WITHHELD: Final = "withheld"  # hidden with the small ones so that the total gives none of them back


def series(counts: Mapping[Key, int], min_group: int) -> dict[Key, int | str]:
    """A series of counts (per week) as it may be shown: values under `min_group` become `FEW`, and
    as many of the smallest others as it takes for the series' total not to give one back become
    `WITHHELD`. Zeros stay: they single nobody out."""
    hidden = hidden_groups({key: count for key, count in counts.items() if count > 0}, min_group)
    return {
        key: count if key not in hidden else FEW if count < min_group else WITHHELD
        for key, count in counts.items()
    }
