"""The four levels of need, in the product's own words, and each authority's own wording.

London's threshold guides share the four levels; authorities name them, and their front door,
in their own way. The defaults are used wherever the directory gives no wording of its own.
The wording itself is a value of the model (:mod:`plugin_core.model.levels`), named here too.
"""

from __future__ import annotations

from collections.abc import Mapping

from plugin_core.model.levels import DEFAULT_LEVELS as DEFAULT_LEVELS
from plugin_core.model.levels import LevelWording as LevelWording
from plugin_core.model.levels import Threshold as Threshold

LEVEL_NUMBERS = tuple(DEFAULT_LEVELS)

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
