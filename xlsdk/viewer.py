"""``xlsdk view HAND``: a local web page to look at a hand and at the shared latent (viser).

The page shows the hand (its URDF, rendered by viser through yourdfpy), a slider per actuated joint,
a slider per latent dimension, and a "retarget to" selector. Moving a joint slider re-encodes the pose
and moves the latent sliders; moving a latent slider decodes it into the joints; the second hand
(when one is selected) follows through the latent in both cases. Both hands are shown in the xlsdk
palm frame (+Z toward the fingertips), side by side.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np

from xlsdk.hand import Hand
from xlsdk.latent.head_loading import decode, encode
from xlsdk.transforms import matrix_quaternion, rpy_matrix

NONE_CHOICE = "(none)"
_SPACING = 0.3  # metres between the two hands


@dataclass
class _Shown:
    """A hand on the page: its viser URDF and the mapping from our joint order to yourdfpy's."""

    hand: Hand
    urdf: object
    order: list[int] = field(default_factory=list)  # per yourdfpy actuated joint: our index, or -1 (skipped)
    q: np.ndarray | None = None  # the pose shown last, in the hand's joint order

    def show(self, q: np.ndarray) -> None:
        self.q = np.asarray(q, dtype=np.float64)
        # yourdfpy wants every actuated URDF joint; joints the manifest skips (a wrist or arm above the
        # palm, marked -1 in ``order``) stay at their reference pose 0
        cfg = np.zeros(len(self.order))
        ours = np.asarray(self.order) >= 0
        cfg[ours] = self.q[np.asarray(self.order)[ours]]
        self.urdf.update_cfg(cfg)  # type: ignore[attr-defined]


class HandViewer:
    """The viewer's state and callbacks; ``serve()`` blocks, tests drive it through the page."""

    def __init__(self, hand: Hand, *, host: str = "127.0.0.1", port: int = 8080) -> None:
        import viser

        from xlsdk.errors import ListenAddressError
        from xlsdk.listen import check_listen_address

        check_listen_address(host, port)  # viser would retry forever on a bad address: refuse it first
        self.hand = hand
        self.server = viser.ViserServer(host=host, port=port, verbose=False)
        self.port = self.server.get_port()
        if port and self.port != port:  # taken between the check and the bind: viser moved on silently
            self.server.stop()
            raise ListenAddressError(f"port {port} on {host} was taken by another program as the viewer started; "
                                     "choose another port, or port 0 for any free one")
        self.q = np.asarray(hand.mid_pose(), dtype=np.float64)
        self.z = np.zeros(self._latent_dim())
        self._lock = threading.RLock()
        self._updating = False
        self.updates = 0
        self.target: _Shown | None = None
        self.main = self._add_hand(hand, "/hand", offset=0.0)
        # frame both hand slots from the palm side, fingertips up
        self.server.initial_camera.position = (_SPACING / 2, 0.55, 0.2)
        self.server.initial_camera.look_at = (_SPACING / 2, 0.0, 0.11)
        self.server.initial_camera.up = (0.0, 0.0, 1.0)
        self._build_gui()
        self._set_pose(self.q, source="joints")

    # --- scene -----------------------------------------------------------------------------------

    def _latent_dim(self) -> int:
        from xlsdk.errors import XlsdkError
        from xlsdk.latent.head_loading import load_head

        try:
            return load_head(self.hand).config.latent_dim
        except XlsdkError:  # a hand without a usable head still shows its joints
            return 0

    def _add_hand(self, hand: Hand, name: str, offset: float) -> _Shown:
        import yourdfpy
        from viser.extras import ViserUrdf

        palm = hand.spec.manifest.palm_frame
        rotation = rpy_matrix(palm.rpy).T  # show the palm link so that the xlsdk palm frame is upright
        self.server.scene.add_frame(name, show_axes=False, position=(offset, 0.0, 0.0), wxyz=matrix_quaternion(rotation))
        model = yourdfpy.URDF.load(str(hand.urdf_path), load_meshes=True, build_scene_graph=True)
        urdf = ViserUrdf(self.server, model, root_node_name=name)
        actuated = list(model.actuated_joint_names)
        order = [hand.joint_names.index(joint) if joint in hand.joint_names else -1 for joint in actuated]
        shown = _Shown(hand=hand, urdf=urdf, order=order)
        return shown

    # --- GUI -------------------------------------------------------------------------------------

    def _build_gui(self) -> None:
        import xlsdk

        gui = self.server.gui
        gui.add_markdown(f"**{self.hand.title}** — {self.hand.dof} joints, fingers {', '.join(self.hand.fingers)}")
        choices = [NONE_CHOICE, *[name for name in xlsdk.hands() if name != self.hand.name]]
        self.retarget_to = gui.add_dropdown("retarget to", options=tuple(choices), initial_value=NONE_CHOICE)
        self.retarget_to.on_update(lambda _: self._select_target(self.retarget_to.value))
        with gui.add_folder("joints"):
            self.joint_sliders = []
            for index, limit in enumerate(self.hand.limits):
                slider = gui.add_slider(limit.name, min=limit.lower, max=limit.upper,
                                        step=(limit.upper - limit.lower) / 200.0, initial_value=float(self.q[index]))
                slider.on_update(lambda _, i=index: self._joint_moved(i))
                self.joint_sliders.append(slider)
        self.latent_sliders = []
        if self.z.size:
            with gui.add_folder("latent", expand_by_default=False):
                for index in range(self.z.size):
                    slider = gui.add_slider(f"z{index}", min=-4.0, max=4.0, step=0.02, initial_value=0.0)
                    slider.on_update(lambda _, i=index: self._latent_moved(i))
                    self.latent_sliders.append(slider)

    def _select_target(self, name: str) -> None:
        import xlsdk

        with self._lock:
            if self.target is not None:
                self.server.scene.remove_by_name("/target")
                self.target = None
            if name != NONE_CHOICE:
                self.target = self._add_hand(xlsdk.load_hand(name), "/target", offset=_SPACING)
                self._set_pose(self.q, source="joints")

    def _joint_moved(self, index: int) -> None:
        if self._updating:
            return
        q = self.q.copy()
        q[index] = float(self.joint_sliders[index].value)
        self._set_pose(q, source="joints")

    def _latent_moved(self, index: int) -> None:
        if self._updating:
            return
        z = self.z.copy()
        z[index] = float(self.latent_sliders[index].value)
        q = decode(self.hand, z)
        self.z = z
        self._set_pose(q, source="latent")

    def _set_pose(self, q: np.ndarray, *, source: str) -> None:
        """Show ``q`` on the main hand, sync the other sliders, and move the retarget hand."""
        with self._lock:
            self.q = np.asarray(q, dtype=np.float64)
            if self.z.size and source == "joints":
                self.z = encode(self.hand, self.q)
            self._updating = True
            try:
                self.main.show(self.q)
                for slider, value in zip(self.joint_sliders, self.q, strict=True):
                    if abs(slider.value - value) > 1e-9:
                        slider.value = float(value)
                for slider, value in zip(self.latent_sliders, self.z, strict=True):
                    clipped = float(np.clip(value, -4.0, 4.0))
                    if abs(slider.value - clipped) > 1e-9:
                        slider.value = clipped
                if self.target is not None and self.z.size:
                    self.target.show(decode(self.target.hand, self.z))
            finally:
                self._updating = False
            self.updates += 1

    def serve(self) -> None:
        """Block until interrupted (Ctrl-C)."""
        import time

        try:
            while True:
                time.sleep(1.0)
        finally:
            self.server.stop()

    def stop(self) -> None:
        self.server.stop()
