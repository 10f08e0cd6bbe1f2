"""Every xlsdk hand is a LeRobot robot: `--robot.type=xlsdk_hand` through LeRobot's own plugin discovery."""

from __future__ import annotations

from pathlib import Path

import pytest


def test_lerobot_discovers_and_builds_an_xlsdk_hand(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_LEROBOT_HOME", str(tmp_path / "lerobot_home"))
    from lerobot.robots.config import RobotConfig
    from lerobot.robots.utils import make_robot_from_config
    from lerobot.utils.import_utils import register_third_party_plugins

    register_third_party_plugins()  # imports the installed lerobot_robot_xlsdk distribution
    config_class = RobotConfig.get_choice_class("xlsdk_hand")
    robot = make_robot_from_config(config_class(hand="ability", driver="sim", calibration_dir=tmp_path / "cal",
                                                options={"tau": 0.001}))
    assert type(robot).__name__ == "XlsdkHand"
    assert list(robot.action_features) == ["index_mcp.pos", "middle_mcp.pos", "ring_mcp.pos", "pinky_mcp.pos",
                                           "thumb_cmc_pitch.pos", "thumb_cmc_yaw.pos"]
    robot.connect()
    try:
        action = {"index_mcp.pos": 0.4, "middle_mcp.pos": 0.4, "ring_mcp.pos": 0.4, "pinky_mcp.pos": 0.4,
                  "thumb_cmc_pitch.pos": 0.3, "thumb_cmc_yaw.pos": 9.0}
        sent = robot.send_action(action)
        assert sent["thumb_cmc_yaw.pos"] == 0.0, "the xlsdk safety layer clamps under LeRobot too"
        observation = robot.get_observation()
        assert set(observation) == set(robot.observation_features)
    finally:
        robot.disconnect()
    assert not robot.is_connected
