"""The LeRobot env config of the xlsdk physics world (gymnasium id ``xlsdk/HandLift-v0``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from lerobot.configs import FeatureType, PolicyFeature
from lerobot.envs.configs import EnvConfig
from lerobot.utils.constants import ACTION, OBS_IMAGE, OBS_STATE


@EnvConfig.register_subclass("xlsdk")
@dataclass
class XlsdkEnvConfig(EnvConfig):
    """Which installed hand lifts which object; features are sized from the hand when the config is built."""

    task: str | None = "HandLift-v0"
    fps: int = 25
    hand: str = "inspire"
    object_kind: str = "ball"
    image_size: int = 96
    camera: str = "front"
    episode_length: int = 100
    features: dict[str, PolicyFeature] = field(default_factory=dict)
    features_map: dict[str, str] = field(
        default_factory=lambda: {ACTION: ACTION, "agent_pos": OBS_STATE, "pixels": OBS_IMAGE}
    )

    def __post_init__(self) -> None:
        import xlsdk

        width = xlsdk.load_hand(self.hand).dof + 6  # joints + wrist (x, y, z, roll, pitch, yaw)
        self.features = {
            ACTION: PolicyFeature(type=FeatureType.ACTION, shape=(width,)),
            "agent_pos": PolicyFeature(type=FeatureType.STATE, shape=(width,)),
            "pixels": PolicyFeature(type=FeatureType.VISUAL, shape=(self.image_size, self.image_size, 3)),
        }

    @property
    def package_name(self) -> str:
        return "xlsdk.gymnasium_env"

    @property
    def gym_id(self) -> str:
        return f"xlsdk/{self.task}"

    @property
    def gym_kwargs(self) -> dict:
        return {"hand": self.hand, "object_kind": self.object_kind, "image_size": self.image_size,
                "camera": self.camera, "max_episode_steps": self.episode_length}
