"""Hardware driver of the Robotera XHAND1, through Robotera's own SDK (RS-485 at 3 Mbaud or EtherCAT).

The SDK (``xhand_controller``, from Robotera's ``xhand_control_sdk_py``) is imported only on connect.
Per joint it takes a command struct with position (rad), gains, a torque limit and a mode; mode 3 is
position control, mode 0 relaxes the hand. The joint index order used here is the manifest's command
order (a third-party listing that matches the URDF order: verify against the SDK before use).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from xlsdk.drivers import DriverEntry, HandDriver, HandState
from xlsdk.drivers.vendor_sdk import import_vendor_sdk
from xlsdk.errors import DriverError

INSTALL = "install Robotera's XHAND SDK (xhand_control_sdk_py, from Robotera's developer downloads) into this environment"
POSITION_MODE = 3
RELAX_MODE = 0


class XHandSdkDriver(HandDriver):
    name = "xhand-sdk"

    def __init__(self, hand: Any, port: str = "/dev/ttyUSB0", baudrate: int = 3_000_000, hand_id: int = 0,
                 ethercat: str | None = None, kp: int = 100, torque_max: int = 300, **kwargs: Any) -> None:
        super().__init__(hand, **kwargs)
        self.port, self.baudrate, self.hand_id, self.ethercat = port, baudrate, hand_id, ethercat
        self.kp, self.torque_max = kp, torque_max
        self._sdk: Any = None
        self._device: Any = None
        self._last = np.zeros(hand.dof)

    def _open(self) -> None:
        sdk = import_vendor_sdk("xhand_controller", driver=self.name, install=INSTALL)
        self._sdk = sdk
        self._device = sdk.XHandControl()
        result = (self._device.open_ethercat(self.ethercat) if self.ethercat
                  else self._device.open_serial(self.port, self.baudrate))
        if getattr(result, "error_code", 0) != 0:
            raise DriverError(f"{self.name}: cannot open {self.ethercat or self.port}: {getattr(result, 'error_message', result)}")

    def _close(self) -> None:
        if self._device is not None:
            self._device.close_device()

    def _command(self, q: np.ndarray, mode: int) -> None:
        command = self._sdk.HandCommand_t()
        for index, value in enumerate(q):
            finger = command.finger_command[index]
            finger.id, finger.kp, finger.ki, finger.kd = index, self.kp, 0, 0
            finger.position, finger.tor_max, finger.mode = float(value), self.torque_max, mode
        result = self._device.send_command(self.hand_id, command)
        if getattr(result, "error_code", 0) != 0:
            raise DriverError(f"{self.name}: command refused: {getattr(result, 'error_message', result)}")

    def _write_positions(self, q: np.ndarray) -> None:
        self._command(q, POSITION_MODE)
        self._last = q.copy()

    def _read_state(self) -> HandState:
        result, state = self._device.read_state(self.hand_id, False)
        if getattr(result, "error_code", 0) != 0:
            raise DriverError(f"{self.name}: state read failed: {getattr(result, 'error_message', result)}")
        positions = tuple(float(state.finger_state[i].position) for i in range(self.hand.dof))
        return HandState(positions=positions, timestamp=self.clock())

    def _halt(self) -> None:
        self._command(np.asarray(self._read_state().positions), POSITION_MODE)


def driver_entries() -> list[DriverEntry]:
    return [DriverEntry(name="xhand-sdk", hands=("xhand",), factory=lambda hand, options: XHandSdkDriver(hand, **options),
                        description="Robotera SDK over RS-485 (3 Mbaud) or EtherCAT (needs the vendor SDK)")]
