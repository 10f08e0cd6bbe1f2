"""Hardware driver of the Paxini DexH13, through Paxini's own SDK (``pxdex``).

The SDK is imported only on connect. It addresses all 16 joints (index, middle, ring, thumb; four
joints each, in radians); the three passive DIPs are written as their PIP value (the 1:1 estimate of
the URDF) and the 13 actuated joints come from the manifest's command order.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from xlsdk.drivers import DriverEntry, HandDriver, HandState
from xlsdk.drivers.vendor_sdk import import_vendor_sdk
from xlsdk.errors import DriverError

INSTALL = "install Paxini's DexH13 SDK (the `pxdex` Python package from Paxini's developer portal) into this environment"
# the vendor's 16-joint order: (index, middle, ring, thumb) x (j0 abd, j1, j2, j3)
SDK_ORDER = ["index_abd", "index_mcp", "index_pip", "index_dip", "middle_abd", "middle_mcp", "middle_pip", "middle_dip",
             "ring_abd", "ring_mcp", "ring_pip", "ring_dip", "thumb_cmc_abd", "thumb_cmc_flex", "thumb_mcp", "thumb_ip"]
PASSIVE = {"index_dip": "index_pip", "middle_dip": "middle_pip", "ring_dip": "ring_pip"}


class PaxiniSdkDriver(HandDriver):
    name = "paxini-sdk"

    def __init__(self, hand: Any, port: str = "/dev/ttyUSB0", camera: str = "/dev/video0", **kwargs: Any) -> None:
        super().__init__(hand, **kwargs)
        self.port, self.camera = port, camera
        self._hand_sdk: Any = None

    def _to_sdk(self, q: np.ndarray) -> list[float]:
        values = dict(zip(self.hand.joint_names, (float(v) for v in q), strict=True))
        return [values[PASSIVE.get(name, name)] for name in SDK_ORDER]

    def _open(self) -> None:
        sdk = import_vendor_sdk("pxdex.dh13", driver=self.name, install=INSTALL)
        self._hand_sdk = sdk.DexH13()
        if not self._hand_sdk.activeHandy(self.port, self.camera):
            raise DriverError(f"{self.name}: no DexH13 answers on {self.port}")
        self._hand_sdk.setMotorControlMode(sdk.POSITION_CONTROL_MODE)
        self._hand_sdk.enableMotor()

    def _close(self) -> None:
        if self._hand_sdk is not None:
            self._hand_sdk.disableMotor()
            self._hand_sdk.disconnectHandy()

    def _write_positions(self, q: np.ndarray) -> None:
        self._hand_sdk.setJointPositionsRadian(self._to_sdk(q))

    def _read_state(self) -> HandState:
        values = dict(zip(SDK_ORDER, self._hand_sdk.getJointPositionsRadian(), strict=True))
        faults = (f"fault code {self._hand_sdk.getFaultCode()}",) if self._hand_sdk.isFault() else ()
        return HandState(positions=tuple(float(values[name]) for name in self.hand.joint_names),
                         timestamp=self.clock(), faults=faults)

    def _halt(self) -> None:
        self._write_positions(np.asarray(self._read_state().positions))


def driver_entries() -> list[DriverEntry]:
    return [DriverEntry(name="paxini-sdk", hands=("paxini",), factory=lambda hand, options: PaxiniSdkDriver(hand, **options),
                        description="Paxini SDK over USB serial (needs the vendor SDK)")]
