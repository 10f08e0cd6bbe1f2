"""Physics: a MuJoCo world for any installed hand, built from its spec alone.

* :mod:`xlsdk.physics.scene`: the pydantic scene description (objects with pose, size, colour, mass,
  friction); no MuJoCo import, cheap to build;
* :mod:`xlsdk.physics.hand_model`: the hand's bodies, joints, mimic equalities, servos, collision
  shapes and fingertip sites from its manifest and URDF;
* :mod:`xlsdk.physics.world_spec`: the world as an ``MjSpec`` (table, actuated 6-DoF wrist, cameras,
  objects) and :class:`PhysicsConfig`; :mod:`xlsdk.physics.world`: :class:`World` compiles it, steps,
  reads object state and contacts; :mod:`xlsdk.physics.rendering`: offscreen images, one GL context;
* :mod:`xlsdk.physics.grasps`: the one grasp synthesis (wrap, envelop, pinch, point and their pre-shapes) on a
  hand's own FK, used by ``check --physics``, the demo and the benchmark's expert;
* :mod:`xlsdk.physics.grasp`: the one executor (approach, contact-aware close, squeeze, lift, hold; its
  constants ``LIFT_M``, ``SQUEEZE``, ``HOLD_S``, ``HELD_M``), judged by object state, with a diagnosis;
  :mod:`xlsdk.physics.grasp_machine`: the closed-loop grasp it and the benchmark's expert run;
* :mod:`xlsdk.physics.strip`: rows of rendered grasp phases (the check's and the demo's pictures);
* :mod:`xlsdk.physics.env`: a gymnasium environment on the world (it takes a ``Hand``; the id that takes a
  name is registered by the face :mod:`xlsdk.gymnasium_env`).

The engine takes Hands and imports no face (``tests/test_layers.py``): the physics check is a conformance
check (:mod:`xlsdk.conformance.physics`), the showcase and episode recordings are the demo's
(:mod:`xlsdk.demo.showcase`, :mod:`xlsdk.demo.recording`).

Images come from MuJoCo's own renderer. With no display, ``MUJOCO_GL`` defaults to ``egl`` here (Mesa's
software rasteriser works without a GPU; ``.ci/ensure-egl`` installs it), set before MuJoCo is imported.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

if not os.environ.get("DISPLAY") and not os.environ.get("MUJOCO_GL"):
    os.environ["MUJOCO_GL"] = "egl"  # mujoco.egl then sets PYOPENGL_PLATFORM itself

if TYPE_CHECKING:
    from xlsdk.physics.scene import Scene, SceneObject
    from xlsdk.physics.world import World
    from xlsdk.physics.world_spec import PhysicsConfig

_LAZY = {"Scene": "xlsdk.physics.scene", "SceneObject": "xlsdk.physics.scene", "World": "xlsdk.physics.world",
         "PhysicsConfig": "xlsdk.physics.world_spec", "ObjectState": "xlsdk.physics.world"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'xlsdk.physics' has no attribute {name!r}")


__all__ = ["ObjectState", "PhysicsConfig", "Scene", "SceneObject", "World"]
