"""Configuration of the native XL-VLA policy (LeRobot policy type ``xlvla``).

Small by default (about 0.3 M parameters) so it trains on two CPU cores in minutes; every width is a
knob here, and the same code runs on GPU (and across GPUs through LeRobot's accelerate-based trainer).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from lerobot.configs.policies import PreTrainedConfig
from lerobot.configs.types import NormalizationMode
from lerobot.optim.optimizers import AdamWConfig

from xlsdk.errors import PolicyConfigError


@PreTrainedConfig.register_subclass("xlvla")
@dataclass
class XlvlaConfig(PreTrainedConfig):
    """Predict the next ``chunk_size`` actions from images, the instruction, the state and its history.

    ``action_space`` is ``"latent"`` (the paper: chunks of the shared latent, decoded by whatever hand
    is attached) or ``"raw"`` (joints scaled to [-1, 1] and padded to ``raw_dim``, the pi0 convention;
    the baseline arm of the cross-hand benchmark). ``hand`` is the hand whose head encodes the training
    data and decodes the output in LeRobot pipelines (``lerobot-train``); xlsdk's own trainer handles
    several hands at once.

    The widths are recorded, not assumed: ``latent_dim`` is the k of the core latent the policy was
    trained in (the installed one when left unset), ``raw_dim`` the widest hand it was trained on (its
    ``hand``'s DOF when left unset). Both land in the saved ``config.json``, and so does
    ``latent_fingerprint``: a latent policy's actions are points of one core latent's space, so
    :func:`refuse_other_core_latent` refuses it under any other (docs/concepts/versions.md).
    """

    chunk_size: int = 8
    n_action_steps: int = 4
    history: int = 2
    hand: str | None = None
    action_space: str = "latent"
    latent_dim: int | None = None
    #: fingerprint of the core latent a latent policy was trained in (the installed one when left unset)
    latent_fingerprint: str | None = None
    raw_dim: int | None = None
    image_size: int = 48
    image_dim: int = 64
    #: leading entries of every action and state before the hand's (a wrist command; 0: the hand alone)
    wrist_dim: int = 0
    #: image encoder: "cnn" (4 strided convolutions), "tokens" (patch tokens + a small transformer,
    #: for 3D scenes where where-things-are matters: the physics benchmark), or "none" (no camera: the
    #: policy reads ``observation.environment_state`` instead, a low-dimensional description of the scene)
    vision: str = "cnn"
    #: width of ``observation.environment_state`` (object poses and the like; 0: not an input)
    environment_dim: int = 0
    #: share of the loss given to the ``wrist_dim`` wrist entries of each action (None: every entry weighs
    #: the same, so a 32-d latent outweighs a 6-d wrist command 32:6). Applied to normalised actions.
    wrist_loss_share: float | None = None
    #: leading entries of the state the network reads (None: all). ``wrist_dim`` reads the wrist alone, not
    #: the hand's joints: a hand the policy never saw then hands it no state it has never seen (the
    #: physics benchmark's ``--proprio wrist`` ablation measures what that buys the held-out hand)
    proprio_dim: int | None = None
    #: the smallest scales the state (wrist pose in metres and radians, then the hand in its space's units)
    #: and the environment (object features: metres, radians, sizes) are normalised by. A dimension that
    #: barely varies in the demonstrations (a wrist's roll and pitch when every grasp comes from straight
    #: above and the data carries no DART noise) would otherwise be divided by its tiny spread, and the
    #: hundredths of a radian a learned policy is off by become inputs dozens of standard deviations out:
    #: paxini's cube policy (roll spread 0.0003 rad) left its own demonstrations at the second control step
    #: of every training scene and solved none of them. The environment's floor is lower: object sizes vary
    #: by millimetres and decide the grasp
    state_std_floor: float = 0.1
    environment_std_floor: float = 0.01
    patch_size: int = 12
    vision_layers: int = 2
    text_buckets: int = 512
    text_dim: int = 32
    hidden_dim: int = 256
    optimizer_lr: float = 1e-3
    optimizer_weight_decay: float = 1e-4
    push_to_hub: bool = False
    normalization_mapping: dict[str, NormalizationMode] = field(default_factory=lambda: {
        "VISUAL": NormalizationMode.IDENTITY,
        "STATE": NormalizationMode.IDENTITY,
        "ACTION": NormalizationMode.IDENTITY,
    })

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.action_space not in ("latent", "raw", "slots"):
            raise PolicyConfigError(f"action_space must be 'latent', 'raw' or 'slots', got {self.action_space!r}")
        if not 1 <= self.n_action_steps <= self.chunk_size:
            raise PolicyConfigError(f"n_action_steps ({self.n_action_steps}) must be in 1..chunk_size ({self.chunk_size})")
        if self.vision not in ("cnn", "tokens", "none"):
            raise PolicyConfigError(f"vision must be 'cnn', 'tokens' or 'none', got {self.vision!r}")
        if self.environment_dim < 0:
            raise PolicyConfigError(f"environment_dim must be 0 or more, got {self.environment_dim}")
        if self.vision == "none" and not self.environment_dim:
            raise PolicyConfigError("a policy without a camera (vision='none') needs environment_dim > 0: "
                                    "it would see nothing of the scene")
        if self.wrist_loss_share is not None and not (0.0 < self.wrist_loss_share < 1.0 and self.wrist_dim):
            raise PolicyConfigError(f"wrist_loss_share must be in (0, 1) and needs wrist_dim > 0, "
                                    f"got {self.wrist_loss_share} with wrist_dim {self.wrist_dim}")
        for name in ("hidden_dim", "image_dim", "text_dim", "text_buckets"):
            if getattr(self, name) < 1:
                raise PolicyConfigError(f"{name} must be 1 or more (a width of the network), "
                                        f"got {getattr(self, name)}")
        for name in ("state_std_floor", "environment_std_floor"):
            if not getattr(self, name) > 0.0:
                raise PolicyConfigError(f"{name} must be > 0 (the smallest scale an input is divided by), "
                                        f"got {getattr(self, name)}")
        if self.vision == "tokens" and self.image_size % self.patch_size:
            raise PolicyConfigError(f"image_size ({self.image_size}) must be a multiple of patch_size ({self.patch_size})")
        if self.wrist_dim < 0:
            raise PolicyConfigError(f"wrist_dim must be 0 or more, got {self.wrist_dim}")
        if self.history < 1:
            raise PolicyConfigError("history must be at least 1 (the current state)")
        if self.action_space == "latent" and self.latent_dim is None:
            from xlsdk.latent.head_loading import latent_dim

            self.latent_dim = latent_dim()
        if self.action_space == "latent" and self.latent_fingerprint is None:
            from xlsdk.latent.head_loading import installed_core_manifest

            self.latent_fingerprint = installed_core_manifest().fingerprint
        if self.action_space == "raw" and self.raw_dim is None and self.hand:
            from xlsdk.plugins import get_plugin_host

            self.raw_dim = get_plugin_host().load_hand(self.hand).dof
        for name in ("latent_dim", "raw_dim"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise PolicyConfigError(f"{name} must be a positive width, got {value}")
        if self.proprio_dim is not None and not 1 <= self.proprio_dim <= self.action_dim:
            raise PolicyConfigError(f"proprio_dim must be in 1..{self.action_dim} (the state's width), "
                                    f"got {self.proprio_dim}")
        self.n_obs_steps = self.history

    @property
    def hand_action_dim(self) -> int:
        """Width of the hand's part of an action: the latent's k, the padded joints, or the fixed joint slots."""
        if self.action_space == "slots":
            from xlsdk.joint_slots import SLOT_COUNT

            return SLOT_COUNT
        width = self.latent_dim if self.action_space == "latent" else self.raw_dim
        if width is None:
            raise PolicyConfigError("a raw-joint xlvla policy needs raw_dim (the widest hand's DOF) or a hand")
        return width

    @property
    def action_dim(self) -> int:
        """Width of one policy action (and of one state): the wrist command, then the hand's part."""
        return self.wrist_dim + self.hand_action_dim

    @property
    def observation_delta_indices(self) -> list[int]:
        return list(range(1 - self.history, 1))

    @property
    def action_delta_indices(self) -> list[int]:
        return list(range(self.chunk_size))

    @property
    def reward_delta_indices(self) -> None:
        return None

    def get_optimizer_preset(self) -> AdamWConfig:
        return AdamWConfig(lr=self.optimizer_lr, weight_decay=self.optimizer_weight_decay)

    def get_scheduler_preset(self) -> None:
        return None

    def validate_features(self) -> None:
        if self.vision != "none" and not self.image_features:
            raise PolicyConfigError("xlvla needs at least one camera image (an 'observation.images.*' feature), "
                                    "or vision='none' with an environment state")


def refuse_other_core_latent(policy_dir: Path) -> None:
    """Refuse a latent policy saved in ``policy_dir`` unless the installed core latent is the one it was
    trained in: decoded through heads fitted for another core latent, its actions would mean other poses.

    Reads ``config.json`` only (no model). Policies saved before the fingerprint was recorded carry none
    and pass; so do joint-space policies.
    """
    import json

    from xlsdk.errors import PolicyError
    from xlsdk.latent.head_loading import installed_core_manifest

    try:
        config = json.loads((Path(policy_dir) / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return  # not readable here: loading the policy names the problem
    trained = config.get("latent_fingerprint") if config.get("action_space", "latent") == "latent" else None
    installed = installed_core_manifest().fingerprint
    if trained is None or trained == installed:
        return
    raise PolicyError(
        f"{policy_dir}: trained under core latent {trained[:12]}, the installed core latent is {installed[:12]}",
        hint=f"run it under the core latent it was trained in: XLSDK_CORE_LATENT=<that core latent's directory>, "
             f"with heads for it (`xlsdk fit HAND --for {trained[:12]}`); or retrain it under this one with "
             f"`xlsdk policy train`")
