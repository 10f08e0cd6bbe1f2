"""The hand manifest: ``hand.toml``, the declarative description of one hand.

A plugin is declarative first: the manifest says which URDF describes the hand, which link is the palm,
which joints are actuated and in which order commands address them, where each canonical fingertip is,
and which drivers the plugin offers. Limits come from the URDF; a manifest may narrow them (a vendor's
firmware soft limits), never widen them.

The file is validated in two stages, both with messages that name the file and the field:
:func:`read_manifest` checks the TOML and its types; :func:`xlsdk.hand_spec.resolve_hand_spec` checks
it against the URDF it points to.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from xlsdk.errors import ManifestError, validation_problems

Finger = Literal["thumb", "index", "middle", "ring", "little"]
#: The canonical finger order. Fingertip arrays are always in this order, restricted to the fingers a hand has.
CANONICAL_FINGERS: tuple[Finger, ...] = ("thumb", "index", "middle", "ring", "little")
MANIFEST_SCHEMA = 1
MANIFEST_FILENAME = "hand.toml"

def _not_bool_or_text(value: object) -> object:
    """TOML's ``false`` or ``"0.1"`` is no number (lax parsing made ``lower = false, upper = true`` a 0-1 rad
    range); ints and numpy floats from Python callers are."""
    if isinstance(value, (bool, str)):
        raise PydanticCustomError("not_a_number", "is {shown}, not a number",
                                  {"shown": str(value).lower() if isinstance(value, bool) else repr(value)})
    return value


#: A number that must be finite: NaN passes every ``<`` comparison and would reach a driver through the
#: limits (NaN clips to NaN), so NaN and +-inf are refused where the manifest is read.
FiniteFloat = Annotated[float, BeforeValidator(_not_bool_or_text), Field(allow_inf_nan=False)]
Vector3 = tuple[FiniteFloat, FiniteFloat, FiniteFloat]
HandName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", min_length=1, max_length=40)]


class FingerTip(BaseModel):
    """Where a canonical fingertip is: a point ``offset`` (metres) in the frame of ``link``."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    link: str = Field(min_length=1)
    offset: Vector3 = (0.0, 0.0, 0.0)


class JointRange(BaseModel):
    """A narrowed joint range (radians or metres)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    lower: FiniteFloat
    upper: FiniteFloat

    @model_validator(mode="after")
    def _ordered(self) -> JointRange:
        if self.lower > self.upper:
            raise ValueError(f"lower {self.lower} is above upper {self.upper}")
        return self


class PalmFrame(BaseModel):
    """The xlsdk palm frame expressed in ``palm_link`` (fixed xyz + roll-pitch-yaw).

    xlsdk compares hands in one palm frame: origin at the wrist mount, +Z from the wrist toward the
    fingertips, +Y the palm normal (the side the fingers curl toward), +X toward the little finger of a
    right hand. A URDF whose palm link follows another convention declares the conversion here instead
    of being edited.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    xyz: Vector3 = (0.0, 0.0, 0.0)
    rpy: Vector3 = (0.0, 0.0, 0.0)


class Coupling(BaseModel):
    """Free-text notes on joint coupling (mimic joints, linkages) for people reading the manifest."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    notes: str = ""


class HandManifest(BaseModel):
    """The validated contents of a ``hand.toml``."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    schema_version: Literal[1] = Field(alias="schema")

    @field_validator("schema_version", mode="before")
    @classmethod
    def _schema_is_a_number(cls, value: object) -> object:
        if isinstance(value, bool):  # True == 1 in Python; `schema = true` is not schema 1
            raise ValueError(f"must be {MANIFEST_SCHEMA}, not {str(value).lower()}")
        return value

    name: HandName
    version: str = Field(min_length=1)
    title: str = ""
    vendor: str = ""
    urdf: str = Field(min_length=1, description="path of the URDF, relative to the manifest")
    palm_link: str = Field(min_length=1)
    joints: tuple[str, ...] = Field(min_length=1, description="actuated joints in command order")
    fingers: dict[Finger, FingerTip]
    limits: dict[str, JointRange] = Field(default_factory=dict)
    drivers: tuple[str, ...] = ("sim",)
    palm_frame: PalmFrame = PalmFrame()
    coupling: Coupling = Coupling()
    handedness: Literal["right", "left"] = Field(
        "right", description="which hand this is; in the xlsdk palm frame a right hand's thumb is on -X, a left's on +X")

    @field_validator("joints")
    @classmethod
    def _unique_joints(cls, joints: tuple[str, ...]) -> tuple[str, ...]:
        seen: set[str] = set()
        for joint in joints:
            if joint in seen:
                raise ValueError(f"joint {joint!r} is listed twice; each actuated joint appears once")
            seen.add(joint)
        return joints

    @field_validator("fingers")
    @classmethod
    def _canonical_order(cls, fingers: dict[Finger, FingerTip]) -> dict[Finger, FingerTip]:
        if "thumb" not in fingers:
            raise ValueError("a thumb is required: cross-hand geometry is measured from the thumb tip")
        if len(fingers) < 2:
            raise ValueError("declare the thumb and at least one other finger")
        return {finger: fingers[finger] for finger in CANONICAL_FINGERS if finger in fingers}

    @field_validator("drivers")
    @classmethod
    def _driver_names(cls, drivers: tuple[str, ...]) -> tuple[str, ...]:
        for driver in drivers:
            if not re.fullmatch(r"[a-z][a-z0-9-]*", driver):
                raise ValueError(f"driver name {driver!r} must be lowercase letters, digits and '-'")
        return drivers

    @property
    def finger_names(self) -> tuple[Finger, ...]:
        return tuple(self.fingers)


def read_manifest(path: Path | str) -> HandManifest:
    """Read and type-check a ``hand.toml``. Raises :class:`ManifestError` naming the file and fields."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ManifestError(path, ["file not found"], hint="a hand plugin ships hand.toml inside its package") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ManifestError(path, [f"cannot be read: {exc}"]) from None
    return parse_manifest(text, path)


def parse_manifest(text: str, path: Path | str = "hand.toml") -> HandManifest:
    """Type-check manifest TOML text; ``path`` is only used in messages."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError(path, [f"not valid TOML: {exc}"]) from None
    try:
        return HandManifest.model_validate(data)
    except ValidationError as exc:
        raise ManifestError(path, validation_problems(exc, describe=_describe)) from None


def _describe(error: dict) -> str:
    loc = [part for part in error["loc"] if part != "[key]"]
    kind = error["type"]
    if kind == "missing" and loc and isinstance(loc[-1], int):
        loc = loc[:-1]
        kind = "too_short"
    location = ".".join(str(part) for part in loc) or "(top level)"
    if kind in ("too_short", "too_long") and loc and loc[-1] in ("offset", "xyz", "rpy"):
        return f"field `{location}` needs exactly 3 numbers [x, y, z]"
    if kind == "missing":
        return f"field `{location}` is required"
    if kind == "extra_forbidden":
        return f"field `{location}` is not a manifest field (check the spelling; see docs/reference/manifest.md)"
    if kind == "literal_error" and error["loc"] and error["loc"][0] == "fingers":
        return f"`{location}` is not a canonical finger; use thumb, index, middle, ring, little"
    if kind == "finite_number":
        return f"field `{location}` is {error['input']!r}; it must be a finite number (not NaN or infinity)"
    if kind == "not_a_number":
        return f"field `{location}` {error['msg']}; write a number without quotes (e.g. 0.5)"
    if kind == "literal_error" and error["loc"] == ("handedness",):
        return 'field `handedness` must be "right" or "left"'
    if kind == "literal_error" and error["loc"] == ("schema",):
        return f"field `schema` must be {MANIFEST_SCHEMA} (this xlsdk reads manifest schema {MANIFEST_SCHEMA})"
    message = error["msg"].removeprefix("Value error, ")
    return f"field `{location}`: {message}"
