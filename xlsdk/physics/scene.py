"""What goes on the table: a pydantic scene description, validated before MuJoCo sees it.

A :class:`Scene` lists objects by kind with a pose, a size, a colour, a mass and a friction. Every
kind has defaults sized for a human-scale hand (see :data:`DEFAULT_SIZES`), so ``SceneObject(kind="ball")``
is a complete description. Positions are world metres; the table top is the plane ``z = 0`` and an
object's ``pos`` is its centre, so a resting object has ``pos.z`` = its half height (use
:meth:`SceneObject.resting`). Nothing here imports MuJoCo: tasks build scenes cheaply and the world
compiles them (:func:`xlsdk.physics.world_spec.build_spec`).
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

ObjectKind = Literal["cube", "ball", "cylinder", "pen", "button", "bin", "marker"]
Vector3 = tuple[float, float, float]
Colour = tuple[float, float, float, float]

#: default size per kind (metres): cube (half edge,), ball (radius,), cylinder (radius, half height),
#: pen (radius, half length), button (half width of the cap, half travel), bin (half width, half depth, wall height),
#: marker (radius of a flat disc painted on the table: a goal spot that nothing collides with)
DEFAULT_SIZES: dict[str, tuple[float, ...]] = {
    "cube": (0.025,),
    "ball": (0.03,),
    "cylinder": (0.028, 0.06),
    "pen": (0.006, 0.07),
    "button": (0.02, 0.006),
    "bin": (0.08, 0.08, 0.05),
    "marker": (0.03,),
}
#: default mass per kind (kg); buttons and bins are fixed to the table (their mass is the moving cap's)
DEFAULT_MASS: dict[str, float] = {"cube": 0.05, "ball": 0.05, "cylinder": 0.12, "pen": 0.015, "button": 0.01,
                                  "bin": 0.0, "marker": 0.0}
SIZE_ARITY: dict[str, int] = {"cube": 1, "ball": 1, "cylinder": 2, "pen": 2, "button": 2, "bin": 3, "marker": 1}
#: named small and large cubes (the issue's standard set), as sizes for kind "cube"
SMALL_CUBE = 0.02
LARGE_CUBE = 0.035


#: the heaviest object a scene may hold (kg): beyond it no hand lifts it and MuJoCo's contacts degrade
MAX_MASS = 100.0


class SceneObject(BaseModel):
    """One object on the table.

    ``yaw`` turns it about the world vertical (radians). ``friction`` is MuJoCo's sliding friction
    coefficient (against the hand's own 1.0 the larger wins, MuJoCo's default mixing). ``stiffness``
    is the button's spring (N/m); other kinds ignore it.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z][A-Za-z0-9_]*$")
    kind: ObjectKind
    pos: Vector3 = (0.0, 0.0, 0.0)
    yaw: float = Field(0.0, allow_inf_nan=False)
    size: tuple[float, ...] = ()
    colour: Colour = (0.85, 0.2, 0.2, 1.0)
    mass: float | None = Field(None, ge=0.0, le=MAX_MASS, description="kg; an object on a hand's table")
    friction: float = Field(1.0, gt=0.0, le=5.0)
    stiffness: float = Field(300.0, gt=0.0, le=1e5)
    lying: bool = Field(False, description="cylinder/pen lie on their side (axis along the yaw direction)")

    @field_validator("pos", "colour")
    @classmethod
    def _finite(cls, values: tuple[float, ...]) -> tuple[float, ...]:
        if not all(math.isfinite(v) for v in values):
            raise ValueError("must be finite numbers")
        return values

    @model_validator(mode="after")
    def _sized(self) -> SceneObject:
        if self.size:
            arity = SIZE_ARITY[self.kind]
            if len(self.size) != arity:
                raise ValueError(f"{self.kind} {self.name!r}: size needs {arity} number(s) "
                                 f"(default {DEFAULT_SIZES[self.kind]}), got {len(self.size)}")
            if not all(math.isfinite(v) and 0.002 <= v <= 0.5 for v in self.size):
                raise ValueError(f"{self.kind} {self.name!r}: every size must be between 0.002 and 0.5 m")
        return self

    @property
    def dims(self) -> tuple[float, ...]:
        return self.size or DEFAULT_SIZES[self.kind]

    @property
    def body_mass(self) -> float:
        return DEFAULT_MASS[self.kind] if self.mass is None else self.mass

    @property
    def standing(self) -> bool:
        """Whether the object rests on its end (a cylinder or pen not lying): one a sideways push can tip."""
        return self.kind in ("cylinder", "pen") and not self.lying

    @property
    def half_height(self) -> float:
        """Half the object's vertical extent when it rests as described (base to centre)."""
        dims = self.dims
        if self.kind in ("cube", "ball"):
            return dims[0]
        if self.kind in ("cylinder", "pen"):
            return dims[1] if self.standing else dims[0]
        if self.kind == "button":
            return 0.01  # the housing's half height; the cap sits on top
        if self.kind == "marker":
            return 0.0005  # a painted disc
        return 0.005  # bin: its floor plate

    @property
    def movable(self) -> bool:
        """Free bodies (the button's cap slides, but the button and the bin stay put)."""
        return self.kind not in ("button", "bin", "marker")

    def resting(self, x: float, y: float) -> SceneObject:
        """The same object standing on the table at ``(x, y)``."""
        return self.model_copy(update={"pos": (float(x), float(y), self.half_height)})


class Scene(BaseModel):
    """Objects on the table (names unique). The hand and cameras are the world's, not the scene's."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    objects: tuple[SceneObject, ...] = ()

    @field_validator("objects")
    @classmethod
    def _unique(cls, objects: tuple[SceneObject, ...]) -> tuple[SceneObject, ...]:
        seen: set[str] = set()
        for item in objects:
            if item.name in seen:
                raise ValueError(f"object name {item.name!r} is used twice; names must be unique")
            seen.add(item.name)
        return objects

    def get(self, name: str) -> SceneObject:
        for item in self.objects:
            if item.name == name:
                return item
        raise KeyError(f"no object {name!r} in the scene; objects: {', '.join(o.name for o in self.objects) or 'none'}")


def standard_objects() -> list[SceneObject]:
    """The standard set, one of each, resting at the grasp spot (for ``xlsdk check --physics``)."""
    spot = (0.0, 0.0)
    return [
        SceneObject(name="small_cube", kind="cube", size=(SMALL_CUBE,), colour=(0.85, 0.25, 0.2, 1)).resting(*spot),
        SceneObject(name="large_cube", kind="cube", size=(LARGE_CUBE,), colour=(0.2, 0.45, 0.85, 1)).resting(*spot),
        SceneObject(name="ball", kind="ball", colour=(0.95, 0.7, 0.1, 1)).resting(*spot),
        SceneObject(name="bottle", kind="cylinder", colour=(0.2, 0.7, 0.35, 1)).resting(*spot),
    ]
