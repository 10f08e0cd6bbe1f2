"""What a URDF's names say: the finger a link or joint is named for, and a left or right hand.

Names are split into tokens (``rh_FFJ3`` -> rh, ffj; ``R_index_proximal`` -> r, index, proximal) and
matched case-insensitively against thumb/th, index/ff/first/fore, middle/mf, ring/rf, little/pinky/lf;
numbers are never names (``finger_0``, ``joint_3.0``). Names win over geometry for fingers
(:mod:`~xlsdk.manifest_proposal.propose`); for the side they are only a second opinion.
"""

from __future__ import annotations

import re
from typing import Literal

from xlsdk.manifest import Finger
from xlsdk.urdf import UrdfModel

Handedness = Literal["right", "left"]


#: name tokens of each canonical finger: a token is a finger's word or code, alone or followed by a phalanx word
#: (``thumbtip``, ``forefinger``, ``ffknuckle``, ``thj`` from ``THJ5``; never ``forearm``)
_FINGER_WORDS: dict[Finger, tuple[str, ...]] = {
    "thumb": ("thumb", "pollex"),
    "index": ("index", "fore", "first"),
    "middle": ("middle",),
    "ring": ("ring",),
    "little": ("little", "pinky", "pinkie", "small"),
}


_FINGER_CODES: dict[Finger, str] = {"thumb": "th", "index": "ff", "middle": "mf", "ring": "rf", "little": "lf"}


_PART_WORDS = ("", "j", "joint", "link", "base", "hub", "knuckle", "metacarpal", "proximal", "middle", "medial",
               "intermediate", "distal", "tip", "pad", "finger", "phalanx")


_SIDE_TOKENS: dict[Handedness, tuple[str, ...]] = {"right": ("right", "r", "rh", "rj", "rl"),
                                                    "left": ("left", "l", "lh", "lj", "ll")}


def name_tokens(name: str) -> list[str]:
    """Lowercase word tokens of a link/joint name: split at non-letters, digits and lower->Upper steps."""
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name)
    return [token.lower() for token in re.split(r"[^A-Za-z]+", spaced) if token]


def fingers_in_name(name: str) -> set[Finger]:
    """The canonical fingers a single name mentions (``rh_ffmiddle`` is the first finger's middle phalanx)."""
    found: set[Finger] = set()
    tokens = name_tokens(name)
    for token in tokens:
        for finger, words in _FINGER_WORDS.items():  # "thumbtip", "forefinger" yes; "forearm" no
            if any(token.startswith(word) and token[len(word):] in _PART_WORDS for word in words):
                found.add(finger)
        for finger, code in _FINGER_CODES.items():
            if token.startswith(code) and token[len(code):] in _PART_WORDS:
                found.add(finger)
    if len(found) > 1 and "middle" in found:
        found.discard("middle")  # "index_middle_link": the middle phalanx of the index finger
    return found


def finger_from_names(names: list[str]) -> Finger | None:
    votes: dict[Finger, int] = {}
    for name in names:
        for finger in fingers_in_name(name):
            votes[finger] = votes.get(finger, 0) + 1
    if not votes:
        return None
    ranked = sorted(votes.items(), key=lambda item: -item[1])
    if len(ranked) > 1 and ranked[1][1] * 2 > ranked[0][1]:
        return None  # the names do not agree on one finger
    return ranked[0][0]


def side_from_names(model: UrdfModel, palm: str) -> tuple[Handedness | None, str]:
    """left/right from the hand's names: a side word or letter at the start or end of most link names below
    the palm (``lh_``, ``left_hand_``, ``R_``, ``palm_r``, ``index_link_l``), else in the robot's name.

    Only a second opinion: the geometry decides whenever it can, and a disagreement becomes a note.
    """
    counts: dict[Handedness, int] = {"right": 0, "left": 0}
    token_of: dict[Handedness, str] = {}
    names = model.links_below(palm)
    for name in names:
        tokens = name_tokens(name)
        if not tokens:
            continue
        for side, words in _SIDE_TOKENS.items():
            if tokens[0] in words or (len(tokens) > 1 and tokens[-1] in words):
                counts[side] += 1
                token_of.setdefault(side, name)
    for side, other in (("right", "left"), ("left", "right")):
        if counts[side] > 0 and counts[side] >= 0.6 * len(names) and counts[other] == 0:
            return side, f"link names such as {token_of[side]!r}"  # type: ignore[return-value]
    robot = set(name_tokens(model.name))
    sides = [side for side in ("right", "left") if side in robot]
    if len(sides) == 1:
        return sides[0], f"the robot's name {model.name!r}"  # type: ignore[return-value]
    return None, ""
