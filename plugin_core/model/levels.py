"""The four levels of need and an authority's own wording of them, carried by a destination.

London's threshold guides share the four levels; authorities name them, and their front door,
in their own way. The defaults here are the product's own words.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from plugin_core.model_checks import check_fields


@dataclass(frozen=True, slots=True)
class LevelWording:
    """One level of need: a short title and a one-line descriptor a nurse reads in seconds."""

    title: str
    descriptor: str

    def __post_init__(self) -> None:
        check_fields(self)


DEFAULT_LEVELS: Mapping[int, LevelWording] = MappingProxyType(
    {
        1: LevelWording(
            "universal",
            "needs met by the family and everyday services such as school and the GP; no referral",
        ),
        2: LevelWording(
            "additional needs",
            "extra help needed, perhaps early signs of neglect; early help, "
            "not children's social care",
        ),
        3: LevelWording(
            "complex needs",
            "needs specialist services, including disabled children; child in need "
            "assessment (Children Act 1989 s17)",
        ),
        4: LevelWording(
            "acute needs",
            "significant harm suspected (s47 enquiries); also children who need highly "
            "specialist health services, and children remanded into custody",
        ),
    }
)
"""The levels as the London threshold guides describe them, in plain words."""


@dataclass(frozen=True, slots=True)
class Threshold:
    """An authority's own wording of its threshold document; defaults where it gives none."""

    levels: tuple[LevelWording, ...] = tuple(DEFAULT_LEVELS.values())
    """Levels 1 to 4, in order (a tuple, so a destination holding it can be hashed); by default
    the product's own wording, ``DEFAULT_LEVELS``."""
    front_door_name: str = ""
    """What the authority calls its front door ("MASH", "CPAT"); "" when not given."""
    threshold_url: str = ""
    """A link to the authority's threshold document; "" when not given."""

    def __post_init__(self) -> None:
        check_fields(self)

    def level(self, number: int) -> LevelWording | None:
        return self.levels[number - 1] if 1 <= number <= len(self.levels) else None
