"""A person's hand as the source: keypoints -> the human hand's joints -> the latent -> every hand.

The human hand is one more installed hand (the ``xlsdk-human`` plugin): a kinematic model whose URDF
has the 21 MediaPipe landmarks as links (:data:`~xlsdk.keypoints.MEDIAPIPE_LANDMARKS`). So keypoints
need only become that hand's joints; from there the shared latent carries them to every installed
hand, including hands added after the demonstration was recorded.

Keypoints -> joints (:class:`KeypointFit`), per frame:

1. **Handedness.** A left hand is mirrored (``x -> -x``) into a right one, as the latent mirrors left
   robot hands; the keypoints' frame must be right-handed (a camera's or a world's). Whether a file
   really holds the hand it is said to hold is checked on the whole file (:meth:`KeypointFit.check_handedness`):
   a mirror image fits the right-hand model far worse than the hand itself, since fingers cannot
   curl backwards.
2. **Palm and size.** The six landmarks that are rigid in the palm (wrist, thumb CMC, the four finger
   MCPs) are aligned to the model's by a weighted similarity transform (Umeyama): a rotation, a
   translation and a scale. The scale is the person's hand size relative to the model's (any unit in,
   model metres out); it is measured per frame, or fixed from a known hand length.
3. **Joints.** The other 15 landmarks (thumb MCP, IP, tip; each finger's PIP, DIP, tip) in the palm
   frame are matched by projected Levenberg-Marquardt on the 21 joints (:class:`~xlsdk.point_fit.PointLeastSquares`
   on :class:`~xlsdk.tip_kinematics.TipKinematics` of the landmark links: the same solver the retargeting
   refinement uses), warm-started from the previous frame in a stream.

Joints -> every hand: one encode through the human hand's head, one decode per target hand, and
optionally the refinement of :mod:`xlsdk.latent.retarget` (:class:`HumanStream` for a teleoperation
loop, :func:`retarget_keypoints` for a recorded file).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from xlsdk.errors import DataFormatError
from xlsdk.hand import Hand
from xlsdk.keypoints import LANDMARK_COUNT, MEDIAPIPE_LANDMARKS, check_keypoints
from xlsdk.latent.fast_head import NumpyHead, StackedDecoders
from xlsdk.latent.head_loading import load_head
from xlsdk.latent.retarget import REFINE_STEPS, StreamRetargeter, retarget
from xlsdk.point_fit import PointLeastSquares
from xlsdk.tip_kinematics import TipKinematics

Handedness = Literal["right", "left"]
#: landmarks rigid in the palm, and their weight in the alignment (MediaPipe places the thumb's CMC less
#: consistently than the knuckles)
PALM_LANDMARKS = (0, 1, 5, 9, 13, 17)
PALM_WEIGHTS = np.array([1.0, 0.5, 1.0, 1.0, 1.0, 1.0])
MOVING_LANDMARKS = tuple(i for i in range(LANDMARK_COUNT) if i not in PALM_LANDMARKS)
#: LM steps of a fit: from the fixed starts of a batch, and from the previous frame in a stream (measured on
#: a 2.5 mm-jitter sequence: 2 steps fit the landmarks as well as 4, 3.69 vs 3.68 mm RMS; 1 step 3.82 mm)
BATCH_STEPS = 25
STREAM_STEPS = 2
#: a stream's fit stops once a step gains less than this fraction of its cost: keypoints carry millimetres
#: of noise, so the last percent of a landmark cost is noise fitted, not pose recovered
STREAM_TOLERANCE = 0.05
#: frames whose measured scale sets a stream's size (their median) before it is frozen
SIZE_FRAMES = 30
#: handedness check: the mirrored fit must beat the fit as given by this factor, on fits worse than this
MIRROR_RATIO = 0.5
MIRROR_MIN_ERROR = 0.006  # metres (model scale): below it the hand as given fits well enough


@dataclass(frozen=True)
class FitResult:
    """Joints of the human hand ``(T, d)`` for keypoints ``(T, 21, 3)``, with how well they fit.

    ``scale`` is the keypoints' size relative to the model's hand (per frame); ``error`` the RMS landmark
    error per frame in metres at the model's size; ``hand_length`` the person's hand length in the
    keypoints' unit (scale x the model's).
    """

    q: np.ndarray
    scale: np.ndarray
    error: np.ndarray
    hand_length: np.ndarray


def tracks_landmarks(hand: Hand) -> bool:
    """Whether ``hand``'s URDF has all 21 landmark links, so keypoints can drive it (the human hand)."""
    return set(MEDIAPIPE_LANDMARKS) <= set(hand.spec.urdf.link_names())


class KeypointFit:
    """Keypoints ``(T, 21, 3)`` -> joints of a hand whose URDF has the 21 MediaPipe landmark links.

    ``handedness`` says which hand the keypoints are of (a left hand is mirrored into the right-hand
    model); ``hand_length`` (in the keypoints' unit, e.g. 0.19 for metres) fixes the size instead of
    measuring it per frame.
    """

    def __init__(self, hand: Hand, *, handedness: Handedness = "right", hand_length: float | None = None) -> None:
        if handedness not in ("right", "left"):
            raise DataFormatError(f"handedness must be 'right' or 'left', got {handedness!r}")
        if hand.spec.manifest.handedness != "right":
            raise DataFormatError(f"{hand.name} is a left-hand model; the keypoint fit needs a right-hand model "
                                  "(left keypoints are mirrored into it)")
        if hand_length is not None and not (np.isfinite(hand_length) and hand_length > 0):
            raise DataFormatError(f"hand length must be a positive number, got {hand_length!r}")
        self.hand, self.handedness = hand, handedness
        links = [MEDIAPIPE_LANDMARKS[i] for i in MOVING_LANDMARKS]
        self._moving = TipKinematics(hand, links=links)  # ShapeError naming the missing landmark links
        self._solver = PointLeastSquares(self._moving, np.asarray(hand.spec.lower), np.asarray(hand.spec.upper))
        palm = TipKinematics(hand, links=[MEDIAPIPE_LANDMARKS[i] for i in PALM_LANDMARKS])
        self._palm = palm.evaluate(hand.zero_pose()[None], jacobian=False)[0][0]  # (6, 3): rigid in the palm
        every = TipKinematics(hand, links=list(MEDIAPIPE_LANDMARKS)).evaluate(hand.zero_pose()[None], jacobian=False)[0][0]
        self.model_length = float(np.linalg.norm(every[12] - every[0]))  # wrist to the middle fingertip
        self.fixed_scale = None if hand_length is None else hand_length / self.model_length
        # starts of a fit without a previous frame: relaxed (slightly curled) and mid-range
        relaxed = np.clip(np.where(np.asarray(hand.spec.lower) < 0, 0.2, np.asarray(hand.spec.lower) + 0.2),
                          hand.spec.lower, hand.spec.upper)
        self._starts = np.stack([relaxed, hand.mid_pose()])

    def align(self, keypoints: np.ndarray, *, scale: float | np.ndarray | None = None,
              mirror: bool | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Keypoints ``(T, 21, 3)`` in the model's palm frame at the model's size, and the scale of each frame.

        ``scale`` fixes the size (else :attr:`fixed_scale`, else measured); ``mirror`` overrides the
        handedness (for the handedness check).
        """
        points = np.asarray(keypoints, dtype=np.float64)
        if self.handedness == "left" if mirror is None else mirror:
            points = points * np.array([-1.0, 1.0, 1.0])
        measured = points[:, PALM_LANDMARKS]  # (T, 6, 3)
        weights = PALM_WEIGHTS / PALM_WEIGHTS.sum()
        model_center = weights @ self._palm
        centers = np.einsum("p,tpi->ti", weights, measured)
        model = self._palm - model_center
        spread = measured - centers[:, None]
        covariance = np.einsum("p,tpi,pj->tij", weights, spread, model)  # measured x model
        u, singular, vt = np.linalg.svd(covariance)
        sign = np.sign(np.linalg.det(u @ vt))
        sign[sign == 0] = 1.0
        correction = np.ones((points.shape[0], 3))
        correction[:, 2] = sign
        rotation = (u * correction[:, None]) @ vt  # model -> measured, a proper rotation
        variance = float(weights @ np.einsum("pi,pi->p", model, model))
        measured_scale = (singular * correction).sum(axis=1) / variance
        if not np.all(measured_scale > 0) or not np.all(np.isfinite(measured_scale)):
            frame = int(np.flatnonzero(~(measured_scale > 0))[0])
            raise DataFormatError(f"keypoints frame {frame}: the palm landmarks (wrist, thumb CMC, knuckles) do not "
                                  "span a hand (all at one point or on a line); check the landmark order")
        if scale is None:
            scale = self.fixed_scale if self.fixed_scale is not None else measured_scale
        scale = np.broadcast_to(np.asarray(scale, dtype=np.float64), (points.shape[0],))
        local = np.einsum("tpi,tij->tpj", points - centers[:, None], rotation) / scale[:, None, None]
        return local + model_center, measured_scale

    def solve(self, aligned: np.ndarray, *, previous: np.ndarray | None = None,
              steps: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Joints ``(T, d)`` and RMS landmark errors ``(T,)`` for aligned keypoints (:meth:`align`)."""
        goal = aligned[:, MOVING_LANDMARKS].reshape(aligned.shape[0], -1)
        starts = np.broadcast_to(self._starts, (aligned.shape[0], *self._starts.shape))
        tolerance = None
        if previous is not None:  # a stream: the previous frame, and the relaxed pose after a tracking glitch
            starts = np.concatenate([np.asarray(previous, dtype=np.float64).reshape(-1, 1, self.hand.dof),
                                     starts[:, :1]], axis=1)
            tolerance = STREAM_TOLERANCE
        system = (None, goal)  # residuals: model landmarks minus measured ones, in metres
        steps = steps if steps is not None else (STREAM_STEPS if previous is not None else BATCH_STEPS)
        q, cost = self._solver.solve(system, np.ascontiguousarray(starts), steps=steps, with_cost=True,
                                     **({} if tolerance is None else {"tolerance": tolerance}))
        return q, np.sqrt(cost / len(MOVING_LANDMARKS))

    def fit(self, keypoints: np.ndarray, *, scale: float | np.ndarray | None = None,
            mirror: bool | None = None) -> FitResult:
        """Joints for every frame of ``keypoints`` ``(T, 21, 3)`` (frames are independent)."""
        points = check_keypoints(keypoints)
        aligned, measured = self.align(points, scale=scale, mirror=mirror)
        q, error = self.solve(aligned)
        used = measured if scale is None and self.fixed_scale is None else \
            np.broadcast_to(np.asarray(scale if scale is not None else self.fixed_scale, dtype=np.float64), measured.shape)
        return FitResult(q=q, scale=np.array(used), error=error, hand_length=used * self.model_length)

    def fit_sequence(self, keypoints: np.ndarray) -> FitResult:
        """Joints for a recording: one size for the whole sequence (the median of the measured scales)."""
        points = check_keypoints(keypoints)
        scale = self.fixed_scale
        if scale is None:
            scale = float(np.median(self.align(points)[1]))
        return self.fit(points, scale=scale)

    def check_handedness(self, keypoints: np.ndarray, *, where: str = "keypoints", frames: int = 64) -> None:
        """Refuse keypoints of the other hand: their mirror image fits the model far better than they do.

        Fits up to ``frames`` evenly spaced frames as given and mirrored and compares the median
        landmark errors; a flat hand fits both ways and passes (it carries no handedness to check).
        """
        points = check_keypoints(keypoints, where)
        picked = points[np.unique(np.linspace(0, points.shape[0] - 1, min(frames, points.shape[0])).astype(int))]
        given = self.handedness == "left"
        as_given = float(np.median(self.fit(picked, mirror=given).error))
        mirrored = float(np.median(self.fit(picked, mirror=not given).error))
        if as_given > MIRROR_MIN_ERROR and mirrored < MIRROR_RATIO * as_given:
            other = "left" if self.handedness == "right" else "right"
            flag = "--left" if other == "left" else "no --left"
            raise DataFormatError(
                f"{where}: these keypoints look like a {other} hand, not a {self.handedness} one (landmark error "
                f"{as_given * 1000:.1f} mm as a {self.handedness} hand, {mirrored * 1000:.1f} mm mirrored); pass "
                f"{flag} (handedness={other!r}), or check that the keypoints' frame is right-handed (a y-down "
                "image frame needs z pointing away from the camera)")


def _targets(targets: Sequence[Hand]) -> list[Hand]:
    names = [hand.name for hand in targets]
    if not names:
        raise DataFormatError("no target hand given")
    if len(set(names)) != len(names):
        raise DataFormatError(f"target hands listed twice: {', '.join(sorted({n for n in names if names.count(n) > 1}))}")
    return list(targets)


def retarget_keypoints(keypoints: np.ndarray, source: Hand, targets: Sequence[Hand], *,
                       handedness: Handedness = "right", hand_length: float | None = None, refine: bool = False,
                       refine_steps: int = REFINE_STEPS, check_handedness: bool = True,
                       where: str = "keypoints") -> tuple[FitResult, dict[str, np.ndarray]]:
    """A recording ``(T, 21, 3)`` to the joints of every target hand, through ``source`` (the human hand).

    Returns the human hand's fit and, per target name, its joints ``(T, d)``; a target that is
    ``source`` itself gets the fitted joints. With ``check_handedness`` keypoints of the other hand
    are refused (:meth:`KeypointFit.check_handedness`).
    """
    fitter = KeypointFit(source, handedness=handedness, hand_length=hand_length)
    if check_handedness:
        fitter.check_handedness(keypoints, where=where)
    fitted = fitter.fit_sequence(keypoints)
    answers: dict[str, np.ndarray] = {}
    for target in _targets(targets):
        answers[target.name] = fitted.q.copy() if target.name == source.name else \
            np.asarray(retarget(fitted.q, source, target, refine=refine, refine_steps=refine_steps))
    return fitted, answers


class HumanStream:
    """Teleoperation: one frame of keypoints ``(21, 3)`` in, joints for every target hand out.

    Everything that does not depend on the frame is prepared once (landmark evaluators, heads, the
    refiners); each call aligns the palm, fits the human hand's joints from the previous frame's, encodes
    them once and decodes them into every target (refined from the better of the decode and the previous
    answer with ``refine=True``). Without ``hand_length`` the size is the median scale of the first
    :data:`SIZE_FRAMES` frames, then frozen, so the hand does not breathe with the tracker's noise.

    ``low_pass`` (in (0, 1], 1 = off) filters every hand's answer exponentially, ``y += low_pass * (x - y)``:
    a tracker's millimetres of jitter become joint jitter a robot should not chase; it trades lag for
    smoothness, as dex-retargeting's low-pass filter does (its teleoperation examples use 0.2). The
    fit and the refinement still start from the unfiltered previous frame, so the filter never biases them.
    """

    def __init__(self, source: Hand, targets: Sequence[Hand], *, handedness: Handedness = "right",
                 hand_length: float | None = None, refine: bool = False, refine_steps: int = REFINE_STEPS,
                 low_pass: float = 1.0) -> None:
        if not (isinstance(low_pass, (int, float)) and 0.0 < low_pass <= 1.0):
            raise DataFormatError(f"low_pass must be in (0, 1] (1 = no filter, 0.2 = strong smoothing), got {low_pass!r}")
        self.low_pass = float(low_pass)
        self._filtered: dict[str, np.ndarray] = {}
        self.source = source
        self.fit = KeypointFit(source, handedness=handedness, hand_length=hand_length)
        self._encoder = NumpyHead(load_head(source))  # one pose per call: numpy passes (see fast_head)
        self._decoders = {t.name: StreamRetargeter(source, t, refine=refine, refine_steps=refine_steps)
                          for t in _targets(targets) if t.name != source.name}
        # every target's decoder in one stacked numpy pass per frame (the heads share their widths)
        self._stacked = StackedDecoders({t.name: NumpyHead(load_head(t)) for t in targets if t.name != source.name})
        self._wants_source = any(t.name == source.name for t in targets)
        self._scales: list[float] = []
        self.previous: np.ndarray | None = None
        self.latent: np.ndarray | None = None
        self.error: float = float("nan")

    @property
    def scale(self) -> float | None:
        """The size in use: fixed, or the median of the frames seen so far (frozen after :data:`SIZE_FRAMES`)."""
        if self.fit.fixed_scale is not None:
            return self.fit.fixed_scale
        return float(np.median(self._scales)) if self._scales else None

    def reset(self) -> None:
        """Forget the previous frame and the measured size (a new person, a new recording)."""
        self.previous, self.latent, self._scales, self._filtered = None, None, [], {}
        for decoder in self._decoders.values():
            decoder.reset()

    def __call__(self, keypoints: np.ndarray) -> dict[str, np.ndarray]:
        points = check_keypoints(keypoints, "keypoints frame")
        if points.shape[0] != 1:
            raise DataFormatError(f"keypoints frame: one frame (21, 3) per call, got {points.shape[0]} frames")
        aligned, measured = self.fit.align(points, scale=self.scale if len(self._scales) >= SIZE_FRAMES else None)
        if self.fit.fixed_scale is None and len(self._scales) < SIZE_FRAMES:
            self._scales.append(float(measured[0]))
            aligned, _ = self.fit.align(points, scale=self.scale)
        q, error = self.fit.solve(aligned, previous=self.previous)
        self.previous, self.error = q[0], float(error[0])
        z = self._encoder.encode(q)
        self.latent = z[0]
        decoded = self._stacked.decode(z)
        answers = {name: decoder.from_decoded(decoded[name], q) for name, decoder in self._decoders.items()}
        if self._wants_source:
            answers[self.source.name] = q[0].copy()
        if self.low_pass < 1.0:
            answers = {name: self._smooth(name, value) for name, value in answers.items()}
        return answers

    def _smooth(self, name: str, value: np.ndarray) -> np.ndarray:
        last = self._filtered.get(name)
        if last is not None and np.isfinite(value).all():
            value = last + self.low_pass * (value - last)
        if np.isfinite(value).all():
            self._filtered[name] = value
        return value.copy()
