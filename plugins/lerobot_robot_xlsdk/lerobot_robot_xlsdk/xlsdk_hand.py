"""An xlsdk hand as a LeRobot ``Robot``: a thin adapter over the xlsdk driver (safety included)."""

from __future__ import annotations

from typing import Any

from lerobot.robots.robot import Robot

from lerobot_robot_xlsdk.config_xlsdk_hand import XlsdkHandConfig


class XlsdkHand(Robot):
    """Delegates to ``xlsdk.drivers.open_driver(hand, driver, options)``; features are ``<joint>.pos``."""

    config_class = XlsdkHandConfig
    name = "xlsdk_hand"

    def __init__(self, config: XlsdkHandConfig) -> None:
        super().__init__(config)
        import xlsdk
        from xlsdk.drivers import open_driver

        self.config = config
        self.hand = xlsdk.load_hand(config.hand)
        options = dict(config.options)
        if config.port:
            options["port"] = config.port
        self.driver = open_driver(self.hand, config.driver, options)

    @property
    def observation_features(self) -> dict[str, Any]:
        return self.driver.observation_features

    @property
    def action_features(self) -> dict[str, Any]:
        return self.driver.action_features

    @property
    def is_connected(self) -> bool:
        return self.driver.is_connected

    @property
    def is_calibrated(self) -> bool:
        return self.driver.is_calibrated

    def connect(self, calibrate: bool = True) -> None:
        self.driver.connect(calibrate=calibrate)

    def calibrate(self) -> None:
        self.driver.calibrate()

    def configure(self) -> None:
        """Nothing to configure: joint limits and safety come from the hand's manifest."""

    def get_observation(self) -> dict[str, Any]:
        return self.driver.get_observation()

    def send_action(self, action: dict[str, Any]) -> dict[str, Any]:
        return self.driver.send_action(action)

    def disconnect(self) -> None:
        self.driver.disconnect()
