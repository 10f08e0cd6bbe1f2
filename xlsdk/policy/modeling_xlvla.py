"""The native XL-VLA policy: image + instruction + state history -> the next chunk of actions.

    camera image ──CNN / tokens─────┐   (or, with vision="none", the environment state ──MLP)
    instruction ──hashed words──bag─┼──► MLP ──► H actions (latents, or padded joints)
    state + history ──MLP───────────┘

States, environment states and actions are normalised per dimension inside the model, by statistics
of the training data (:meth:`XlvlaModel.set_statistics`, saved with the weights): a wrist position in
metres, a latent near unit scale and a joint in radians then weigh alike, and the loss is computed on
normalised actions (optionally with a fixed share for the wrist, ``wrist_loss_share``).

The action head is a **regression** head (mean squared error on the chunk). Why not flow matching:
the demonstrations xlsdk trains on map each observation to one grasp (IK solutions, not people with
several habits), the latent is smooth and low-dimensional (k = 32), and regression trains in a fraction
of the CPU time; flow matching earns its cost on multimodal human demonstrations, where an average of
two modes is a bad action.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import torch
import torch.nn.functional as F
from lerobot.policies.pretrained import PreTrainedPolicy
from torch import Tensor, nn

from xlsdk.errors import DataFormatError
from xlsdk.policy.configuration_xlvla import XlvlaConfig
from xlsdk.policy.text import hash_words

STATE = "observation.state"
ENVIRONMENT = "observation.environment_state"
ACTION = "action"


class ImageTokens(nn.Module):
    """Patch tokens of the image through a small transformer, pooled by attention (``vision="tokens"``).

    A 3D scene seen from a fixed camera puts the answer to "where is the red cube" in which patch it
    is in; a stack of strided convolutions followed by one linear layer blurs that, while tokens with
    learned positions keep it (and attention lets the instruction-free pooling pick the object out).
    """

    def __init__(self, config: XlvlaConfig, width: int = 64) -> None:
        super().__init__()
        side = config.image_size // config.patch_size
        self.patches = nn.Conv2d(3, width, config.patch_size, stride=config.patch_size)
        self.position = nn.Parameter(torch.zeros(1, side * side, width))
        layer = nn.TransformerEncoderLayer(width, nhead=4, dim_feedforward=2 * width, dropout=0.0, batch_first=True,
                                           norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, config.vision_layers, enable_nested_tensor=False)
        self.query = nn.Parameter(torch.zeros(1, 1, width))
        self.pool = nn.MultiheadAttention(width, 4, batch_first=True)
        self.out = nn.Sequential(nn.LayerNorm(width), nn.Linear(width, config.image_dim), nn.SiLU())

    def forward(self, image: Tensor) -> Tensor:
        tokens = self.patches(image).flatten(2).transpose(1, 2) + self.position
        tokens = self.encoder(tokens)
        pooled, _ = self.pool(self.query.expand(tokens.shape[0], -1, -1), tokens, tokens)
        return self.out(pooled[:, 0])


class XlvlaModel(nn.Module):
    """The network, free of LeRobot batch conventions (used by the policy and by xlsdk's trainer)."""

    def __init__(self, config: XlvlaConfig) -> None:
        super().__init__()
        self.config = config
        self.image: nn.Module | None = None
        if config.vision == "tokens":
            self.image = ImageTokens(config)
        elif config.vision == "cnn":
            self.image = nn.Sequential(
                nn.Conv2d(3, 16, 5, stride=2, padding=2), nn.SiLU(),
                nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.SiLU(),
                nn.Conv2d(32, 64, 3, stride=2, padding=1), nn.SiLU(),
                nn.Conv2d(64, 64, 3, stride=2, padding=1), nn.SiLU(),
                nn.Flatten(), nn.LazyLinear(config.image_dim), nn.SiLU(),
            )
        self.environment = nn.Sequential(
            nn.Linear(config.environment_dim, config.hidden_dim // 2), nn.SiLU(),
            nn.Linear(config.hidden_dim // 2, config.hidden_dim // 2), nn.SiLU(),
        ) if config.environment_dim else None
        self.text = nn.EmbeddingBag(config.text_buckets, config.text_dim, mode="mean")
        self.proprio_dim = config.proprio_dim or config.action_dim
        self.state = nn.Sequential(nn.Linear(config.history * self.proprio_dim, config.hidden_dim // 2), nn.SiLU())
        width = ((config.image_dim if self.image is not None else 0) + config.text_dim + config.hidden_dim // 2
                 + (config.hidden_dim // 2 if self.environment is not None else 0))
        # per-dimension normalisation (identity until set_statistics; saved with the weights)
        for name, size in (("state", config.action_dim), ("action", config.action_dim),
                           ("environment", config.environment_dim)):
            self.register_buffer(f"{name}_mean", torch.zeros(size))
            self.register_buffer(f"{name}_std", torch.ones(size))
        self.trunk = nn.Sequential(
            nn.Linear(width, config.hidden_dim), nn.LayerNorm(config.hidden_dim), nn.SiLU(),
            nn.Linear(config.hidden_dim, config.hidden_dim), nn.LayerNorm(config.hidden_dim), nn.SiLU(),
        )
        self.head = nn.Linear(config.hidden_dim, config.chunk_size * config.action_dim)
        if self.image is not None:
            with torch.no_grad():  # materialise the lazy layer so parameters are known before training
                self.image(torch.zeros(1, 3, config.image_size, config.image_size))

    @torch.no_grad()
    def set_statistics(self, states: Tensor, actions: Tensor, environment: Tensor | None = None) -> None:
        """Normalise by the mean and standard deviation of the training data, per dimension.

        A dimension that never varies (a padded joint, a constant) keeps a unit scale, so it is
        neither amplified nor divided by zero; an input dimension is never divided by less than
        ``config.state_std_floor`` / ``environment_std_floor`` (a near-constant input would turn a policy's
        small errors into huge ones). Environment values given to a policy that does not read
        them (a vision policy trained on data that also stores the object features) are ignored, as its
        forward pass ignores them; values of the wrong width are refused by name.
        """
        for name, values in (("state", states), ("action", actions), ("environment", environment)):
            if values is None or not values.numel() or (name == "environment" and self.environment is None):
                continue
            width = getattr(self, f"{name}_mean").numel()
            if values.shape[-1] != width:
                raise DataFormatError(f"the training data's {name} has {values.shape[-1]} values per frame; this "
                                      f"policy was configured for {width}",
                                      hint="make the policy config from the same dataset")
            flat = values.reshape(-1, values.shape[-1]).double()
            std = flat.std(dim=0)
            getattr(self, f"{name}_mean").copy_(flat.mean(dim=0).float())
            if name == "action":
                scale = torch.where(std > 1e-4, std, torch.ones_like(std))
            else:  # an input: never divided by less than its floor (XlvlaConfig.state_std_floor says why)
                floor = self.config.state_std_floor if name == "state" else self.config.environment_std_floor
                scale = torch.where(std > 1e-4, std.clamp(min=floor), torch.full_like(std, max(floor, 1.0)))
            getattr(self, f"{name}_std").copy_(scale.float())

    def normalise_actions(self, actions: Tensor) -> Tensor:
        return (actions - self.action_mean) / self.action_std

    def forward(self, image: Tensor | None, tasks: list[str], states: Tensor,
                environment: Tensor | None = None) -> Tensor:
        """``image`` (B, 3, S, S) in [0, 1], ``states`` (B, history, A) oldest first, ``environment`` (B, E)
        -> the *normalised* chunk (B, H, A); :meth:`unnormalise` turns it into actions."""
        config = self.config
        ids, offsets = hash_words(tasks, config.text_buckets)
        states = (states - self.state_mean) / self.state_std
        parts = []
        if self.image is not None:
            if image is None:
                raise DataFormatError("this policy needs a camera image (an 'observation.images.*' feature)")
            if image.shape[-1] != config.image_size or image.shape[-2] != config.image_size:
                image = F.interpolate(image, size=(config.image_size, config.image_size), mode="bilinear",
                                      align_corners=False)
            parts.append(self.image(image * 2.0 - 1.0))
        if self.environment is not None:
            if environment is None:
                raise DataFormatError(f"this policy needs '{ENVIRONMENT}' ({config.environment_dim} values)")
            parts.append(self.environment((environment - self.environment_mean) / self.environment_std))
        parts += [self.text(ids.to(states.device), offsets.to(states.device)),
                  self.state(states[..., : self.proprio_dim].reshape(states.shape[0], -1))]
        chunk = self.head(self.trunk(torch.cat(parts, dim=-1)))
        return chunk.reshape(-1, config.chunk_size, config.action_dim)

    def unnormalise(self, chunk: Tensor) -> Tensor:
        return chunk * self.action_std + self.action_mean

    def loss_weights(self) -> Tensor:
        """Per action entry: uniform, or the wrist's ``wrist_loss_share`` spread over its entries."""
        config = self.config
        weights = torch.ones(config.action_dim, device=self.action_mean.device)
        share = config.wrist_loss_share
        if share is not None:
            weights[: config.wrist_dim] = share * config.action_dim / config.wrist_dim
            weights[config.wrist_dim:] = (1 - share) * config.action_dim / (config.action_dim - config.wrist_dim)
        return weights


def image_key(batch: dict[str, Any]) -> str:
    keys = sorted(k for k in batch if k.startswith("observation.images."))
    if not keys:
        raise DataFormatError("the batch has no 'observation.images.*' camera")
    return keys[0]


def _batch_size(batch: dict[str, Any]) -> int:
    return int(batch[STATE].shape[0])


class XlvlaPolicy(PreTrainedPolicy):
    """LeRobot policy wrapper: batches in, loss or action chunks out."""

    config_class = XlvlaConfig
    name = "xlvla"

    def __init__(self, config: XlvlaConfig, dataset_stats: Any = None, dataset_meta: Any = None, **kwargs: Any) -> None:
        super().__init__(config)
        config.validate_features()
        self.model = XlvlaModel(config)
        self._states: deque[Tensor] = deque(maxlen=config.history)
        self._actions: deque[Tensor] = deque()

    def get_optim_params(self) -> Any:
        return self.parameters()

    def reset(self) -> None:
        self._states.clear()
        self._actions.clear()

    @staticmethod
    def _last_frame(tensor: Tensor, dims: int) -> Tensor:
        """Drop a history axis if the dataset stacked one (images: keep the newest frame)."""
        return tensor[:, -1] if tensor.ndim == dims + 1 else tensor

    def _states_of(self, batch: dict[str, Any]) -> Tensor:
        state = batch[STATE]
        if state.ndim == 3:
            return state
        return state.unsqueeze(1).expand(-1, self.config.history, -1)

    def _inputs(self, batch: dict[str, Any]) -> tuple[Tensor | None, list[str], Tensor, Tensor | None]:
        image = self._last_frame(batch[image_key(batch)], 4) if self.model.image is not None else None
        environment = batch.get(ENVIRONMENT)
        if environment is not None and self.model.environment is not None:
            environment = self._last_frame(environment, 2)
        tasks = list(batch.get("task", [""] * _batch_size(batch)))
        return image, tasks, self._states_of(batch), environment

    def forward(self, batch: dict[str, Any]) -> tuple[Tensor, dict[str, float]]:
        predicted = self.model(*self._inputs(batch))
        target = self.model.normalise_actions(batch[ACTION])
        weights = self.model.loss_weights()
        if "action_mask" in batch:  # entries a hand leaves empty (joint slots) do not count
            weights = weights * batch["action_mask"][:, None, :].float()
        error = (F.mse_loss(predicted, target, reduction="none") * weights).mean(dim=-1)
        if "action_is_pad" in batch:
            keep = ~batch["action_is_pad"]
            loss = (error * keep).sum() / keep.sum().clamp_min(1)
        else:
            loss = error.mean()
        return loss, {"loss": float(loss.detach())}

    @torch.no_grad()
    def predict_action_chunk(self, batch: dict[str, Any], **kwargs: Any) -> Tensor:
        return self.model.unnormalise(self.model(*self._inputs(batch)))

    def remember_state(self, state: Tensor) -> Tensor:
        """Keep one step's state ``(B, D)`` (or the newest of a ``(B, T, D)`` history) and return the kept
        history ``(B, history, D)``. Until ``history`` steps are seen the first is repeated in front, as the
        training frames clip their history at an episode's first row; :meth:`reset` starts an episode."""
        self._states.append(state if state.ndim == 2 else state[:, -1])
        while len(self._states) < self.config.history:
            self._states.appendleft(self._states[0])
        return torch.stack(list(self._states), dim=1)

    @torch.no_grad()
    def select_action(self, batch: dict[str, Any], **kwargs: Any) -> Tensor:
        """One action per call; a new chunk every ``n_action_steps`` calls, with the state history kept here."""
        history = self.remember_state(batch[STATE])
        if not self._actions:
            chunk = self.predict_action_chunk({**batch, STATE: history})
            self._actions.extend(chunk[:, : self.config.n_action_steps].transpose(0, 1))
        return self._actions.popleft()
