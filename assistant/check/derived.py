"""Derived figures (issue 10, item 2): values a report computes from supplied figures.

STUB of the data contract, so that the prompt's figures table can be built on this branch: the
checker's branch (`grounding`) owns this module and replaces it whole, with the computation
(growth, difference, points, multiple, share from last_year / part_of). Until then nothing is
derived, and the prompt lists no computed values.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel

from assistant.core.figures import Figure

Kind = Literal["growth", "difference", "points", "multiple", "share", "sum"]


class DerivedValue(BaseModel):
    """A value computed from the supplied figures, as a drafter writes it."""

    kind: Kind
    figure_ids: list[str]
    item: str
    value: float
    unit: str
    formula: str  # "(11−8)/8 = 37.5%"
    text: str  # "比上年增长37.5%"


def derived_values(figures: Sequence[Figure]) -> list[DerivedValue]:
    """Everything the figures allow to compute (stub: nothing yet)."""
    return []
