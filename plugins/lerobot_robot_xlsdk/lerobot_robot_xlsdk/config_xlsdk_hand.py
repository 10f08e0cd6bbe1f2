"""The LeRobot config of an xlsdk hand."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lerobot.robots.config import RobotConfig


@RobotConfig.register_subclass("xlsdk_hand")
@dataclass
class XlsdkHandConfig(RobotConfig):
    """Which installed xlsdk hand, through which driver and transport."""

    hand: str = "inspire"
    driver: str = "sim"
    port: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    cameras: dict[str, Any] = field(default_factory=dict)
