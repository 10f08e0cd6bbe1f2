"""MuJoCo's offscreen rendering for every world in a process: one OpenGL context, a renderer per model and size.

With no display, MuJoCo's default back end (GLFW) cannot open a context; EGL (Mesa's software rasteriser
works without a GPU, ``.ci/ensure-egl`` installs it) is put in place before the first renderer is made
(:mod:`xlsdk.physics` also sets ``MUJOCO_GL=egl`` before MuJoCo is imported when it can).
"""

from __future__ import annotations

import os

import mujoco
import numpy as np

from xlsdk.errors import PhysicsError


def _headless_backend() -> None:
    """Use EGL when there is no display and the user chose no back end.

    MuJoCo picks its OpenGL back end from ``MUJOCO_GL`` when it is first imported, which may happen
    before xlsdk.physics (pytorch-kinematics imports it); with no display its default (GLFW) cannot
    work, so the EGL context class is put in place before the first renderer is made.
    """
    if os.environ.get("MUJOCO_GL") not in (None, "", "egl") or os.environ.get("DISPLAY"):
        return
    try:
        from mujoco.rendering.classic import gl_context

        if gl_context.GLContext is None or gl_context.GLContext.__module__ != "mujoco.egl":
            from mujoco.egl import GLContext

            gl_context.GLContext = GLContext
    except (ImportError, AttributeError):  # another MuJoCo layout: its own choice stands
        return


_GL_CONTEXT: list = []  # the process's one offscreen OpenGL context, made on the first render


def _gl_context() -> object:
    """One offscreen OpenGL context shared by every world's renderers in this process.

    With Mesa's software renderer, a new context and the first MuJoCo render context on it cost about
    0.15 s of CPU (shader compilation), 25x a render context on an existing one: a benchmark that builds
    a world per episode spent more CPU making renderers than rendering.
    """
    if not _GL_CONTEXT:
        _headless_backend()
        from mujoco.rendering.classic import gl_context

        try:
            if gl_context.GLContext is None:
                raise RuntimeError("no OpenGL back end")
            _GL_CONTEXT.append(gl_context.GLContext(64, 64))
        except Exception as exc:  # noqa: BLE001 - GL back ends raise many types
            raise PhysicsError(f"MuJoCo cannot open an offscreen OpenGL context ({type(exc).__name__}: {exc})",
                               hint="headless machines need EGL with Mesa: run .ci/ensure-egl, set MUJOCO_GL=egl"
                               ) from None
    return _GL_CONTEXT[0]


class Renderer:
    """MuJoCo's offscreen rendering of one model at one size, on the shared context (:func:`_gl_context`).

    What ``mujoco.Renderer`` does for an RGB image from a named camera, without a context of its own.
    """

    def __init__(self, model: mujoco.MjModel, width: int, height: int) -> None:
        self.model, self.context = model, _gl_context()
        self.context.make_current()
        self.scene = mujoco.MjvScene(model, maxgeom=10000)
        self.option, self.camera = mujoco.MjvOption(), mujoco.MjvCamera()
        self.camera.type = mujoco.mjtCamera.mjCAMERA_FIXED
        self.rect = mujoco.MjrRect(0, 0, width, height)
        self.mjr: mujoco.MjrContext | None = mujoco.MjrContext(model, mujoco.mjtFontScale.mjFONTSCALE_150.value)
        self.pixels = np.empty((height, width, 3), dtype=np.uint8)

    def render(self, data: mujoco.MjData, camera: str) -> np.ndarray:
        camera_id = mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_CAMERA, camera)
        if camera_id < 0:
            cameras = [self.model.camera(i).name for i in range(self.model.ncam)]
            raise PhysicsError(f"no camera {camera!r} in this world; cameras are {', '.join(cameras)}")
        self.camera.fixedcamid = camera_id
        self.context.make_current()
        mujoco.mjv_updateScene(self.model, data, self.option, None, self.camera, mujoco.mjtCatBit.mjCAT_ALL.value,
                               self.scene)
        mujoco.mjr_setBuffer(mujoco.mjtFramebuffer.mjFB_OFFSCREEN.value, self.mjr)  # this model's framebuffer
        mujoco.mjr_render(self.rect, self.scene, self.mjr)
        mujoco.mjr_readPixels(self.pixels, None, self.rect, self.mjr)
        return np.flipud(self.pixels).copy()

    def close(self) -> None:
        if self.mjr is not None:
            self.context.make_current()
            self.mjr.free()
            self.mjr = None
