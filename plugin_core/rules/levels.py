"""The four levels of need, in the product's own words, and each authority's own wording.

London's threshold guides share the four levels; authorities name them, and their front door,
in their own way. The defaults here are used wherever the directory gives no wording of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType


@dataclass(frozen=True, slots=True)
class LevelWording:
    """One level of need: a short title and a one-line descriptor a nurse reads in seconds."""

    title: str
    descriptor: str


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

LEVEL_NUMBERS = tuple(DEFAULT_LEVELS)


@dataclass(frozen=True, slots=True)
class Threshold:
    """An authority's own wording of its threshold document; defaults where it gives none."""

    levels: tuple[LevelWording, ...] = tuple(DEFAULT_LEVELS.values())
    """Levels 1 to 4, in order (a tuple, so a destination holding it can be hashed)."""
    front_door_name: str = ""
    """What the authority calls its front door ("MASH", "CPAT"); "" when not given."""
    threshold_url: str = ""
    """A link to the authority's threshold document; "" when not given."""

    def level(self, number: int) -> LevelWording | None:
        return self.levels[number - 1] if 1 <= number <= len(self.levels) else None


DEFAULT_THRESHOLD = Threshold()


def with_overrides(
    titles: Mapping[int, tuple[str, str]], front_door_name: str = "", threshold_url: str = ""
) -> Threshold:
    """The defaults with an authority's own ``(title, descriptor)`` per level; "" keeps ours."""
    levels = dict(DEFAULT_LEVELS)
    for number, (title, descriptor) in titles.items():
        base = levels[number]
        levels[number] = LevelWording(title or base.title, descriptor or base.descriptor)
    return Threshold(tuple(levels[n] for n in LEVEL_NUMBERS), front_door_name, threshold_url)


def capitalised(text: str) -> str:
    """ "complex needs" as a heading or choice: "Complex needs"."""
    return text[:1].upper() + text[1:]
