"""The physics world's gymnasium and LeRobot faces: the env passes check_env, LeRobot finds env and robot."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

pytest.importorskip("mujoco")


@pytest.mark.slow
def test_gymnasium_env_passes_check_env_without_warnings() -> None:
    import gymnasium
    from gymnasium.utils.env_checker import check_env

    env = gymnasium.make("xlsdk.gymnasium_env:xlsdk/HandLift-v0", hand="inspire", object_kind="cube")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env.unwrapped, skip_render_check=False)
    gym_warnings = [str(w.message) for w in caught if "gymnasium" in str(w.filename)]
    assert not gym_warnings, gym_warnings
    first, _ = env.reset(seed=3)
    again, _ = env.reset(seed=3)
    np.testing.assert_array_equal(first["pixels"], again["pixels"])  # deterministic per seed
    frames = [first["pixels"]]
    reach = env.unwrapped.normalise(np.concatenate([env.unwrapped.hand.spec.upper, [0.0, 0.0, 0.15, 0, 0, 0]]))
    for _ in range(6):
        observation, reward, terminated, truncated, info = env.step(reach)
        frames.append(observation["pixels"])
    assert np.abs(frames[0].astype(int) - frames[-1]).mean() > 1.0  # the hand moved in the picture
    assert not terminated and reward < 0.01 and "lifted" in info
    with pytest.raises(Exception, match="non-finite"):
        env.step(np.full(env.action_space.shape, np.nan, dtype=np.float32))
    env.close()


@pytest.mark.slow
def test_lerobot_finds_the_env_and_the_robot_on_physics() -> None:
    from lerobot.envs.factory import make_env, make_env_config
    from lerobot.robots import RobotConfig
    from lerobot.robots.utils import make_robot_from_config
    from lerobot.utils.import_utils import register_third_party_plugins

    register_third_party_plugins()
    config = make_env_config("xlsdk", hand="xhand", episode_length=5)
    assert config.features["action"].shape == (12 + 6,)
    vector = make_env(config, n_envs=1)["xlsdk"][0]
    observation, _ = vector.reset(seed=0)
    assert observation["pixels"].shape == (1, 96, 96, 3) and observation["agent_pos"].shape == (1, 18)
    vector.step(np.zeros((1, 18), dtype=np.float32))
    vector.close()

    robot_config = RobotConfig.get_choice_class("xlsdk_hand")(hand="inspire", driver="mujoco")
    robot = make_robot_from_config(robot_config)
    assert "wrist.z" in robot.action_features and robot.observation_features["front"] == (96, 96, 3)
    robot.connect()
    try:
        observation = robot.get_observation()
        assert observation["front"].shape == (96, 96, 3) and observation["front"].std() > 5
        action = {key: 0.2 for key in robot.action_features if not key.startswith("wrist.")}
        sent = robot.send_action(action)  # hand joints only: the wrist holds
        assert set(sent) == set(action)
    finally:
        robot.disconnect()
