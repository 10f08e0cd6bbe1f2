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
   refinement uses). A stream fits with :class:`LandmarkTracker` instead: the same least squares from
   the previous frame, one landmark evaluation per step, each finger's step chosen on its own.

Joints -> every hand: one encode through the human hand's head, one decode per target hand, and
optionally the refinement of :mod:`xlsdk.latent.retarget` (:class:`HumanStream` for a teleoperation
loop, with :class:`GeometryTracker` as its refinement; :func:`retarget_keypoints` for a recorded file).

The stream is the teleoperation loop's per-frame cost, so it runs in numpy alone with everything
prepared once: no torch call, no evaluation whose answer the previous frame already gave (see the
two trackers), the heads as numpy passes (:mod:`xlsdk.latent.fast_head`).
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
from xlsdk.latent.refine import REFINE_STEPS, GeometryRefiner
from xlsdk.latent.retarget import retarget
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
#: the tracker's (:class:`LandmarkTracker`) most LM steps per frame, and the RMS landmark error (metres at
#: the model's size) below which it stops after its first: a fit inside a tracker's jitter (MediaPipe's is a
#: few millimetres per coordinate) only fits noise with more steps. Measured on the benchmark's 2.5 mm-jitter
#: sequence: 1.1 evaluations per frame, 3.86 mm RMS (3.75 mm with two steps always, 3.88 mm with one), the
#: retargeted fingertip geometry the same to 0.001 either way
TRACK_STEPS = 2
TRACK_GOOD_FIT = 0.005
#: LM steps of a stream's refinement (:class:`HumanStream` with ``refine=True``): it starts from the better of
#: the decode and the previous frame's answer, so one step does what two do (benchmark: fingertip geometry
#: error 0.133 with one step or two, reach units)
STREAM_REFINE_STEPS = 1
#: RMS landmark error of one finger (metres at the model's size) above which the tracker also weighs the
#: relaxed pose as that finger's start: far beyond jitter, the finger was lost (a tracking glitch)
TRACK_LOST = 0.02
#: LM damping levels a tracker step tries at once, relative to the diagonal of J^T J (as the batch solver's)
TRACK_DAMPINGS = (1e-3, 1e-1, 3.0)
_RIDGE = 1e-6  # absolute ridge: a joint no landmark sees stays put
#: frames whose measured scale sets a stream's size (their median) before it is frozen
SIZE_FRAMES = 30
#: handedness check: the mirrored fit must beat the fit as given by this factor, on fits worse than this
MIRROR_RATIO = 0.5
MIRROR_MIN_ERROR = 0.006  # metres (model scale): below it the hand as given fits well enough


@dataclass(frozen=True)
class KeypointFitResult:
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
        # the palm alignment's fixed half (the model's weighted, centred palm landmarks), for align_frame
        self._weights = PALM_WEIGHTS / PALM_WEIGHTS.sum()
        self._model_center = self._weights @ self._palm
        centred = self._palm - self._model_center
        self._weighted_model = self._weights[:, None] * centred
        self._variance = float(np.einsum("pi,pi->", self._weighted_model, centred))
        self._mirror = np.array([-1.0, 1.0, 1.0])
        self._palm_rows = np.array(PALM_LANDMARKS)

    def tracker(self) -> LandmarkTracker:
        """A :class:`LandmarkTracker` of this hand's moving landmarks (the stream's fit)."""
        return LandmarkTracker(self._moving, self.hand.spec.lower, self.hand.spec.upper, self._starts[0])

    def align_frame(self, frame: np.ndarray, *, scale: float | None = None) -> tuple[np.ndarray, float]:
        """:meth:`align` for one checked frame ``(21, 3)``: the stream's path, in 2-D arrays (no batch axis).

        Same alignment (a weighted Umeyama fit of the palm landmarks), a fraction of :meth:`align`'s
        numpy calls; ``scale`` fixes the size, else the frame's measured scale (also returned) is used.
        """
        if self.handedness == "left":
            frame = frame * self._mirror
        palm = frame.take(self._palm_rows, axis=0)
        center = self._weights @ palm
        covariance = (palm - center).T @ self._weighted_model  # measured x model
        u, singular, vt = np.linalg.svd(covariance)
        rotation = u @ vt
        (a, b, c), (d, e, f), (g, h, i) = rotation.tolist()
        if a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g) < 0.0:  # a reflection (det -1): flip
            u[:, 2] = -u[:, 2]
            singular[2] = -singular[2]
            rotation = u @ vt
        measured = float(singular.sum()) / self._variance
        if not (measured > 0.0 and np.isfinite(measured)):
            raise DataFormatError("keypoints frame: the palm landmarks (wrist, thumb CMC, knuckles) do not span a "
                                  "hand (all at one point or on a line); check the landmark order")
        used = measured if scale is None else scale
        return (frame - center) @ rotation * (1.0 / used) + self._model_center, measured

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
            mirror: bool | None = None) -> KeypointFitResult:
        """Joints for every frame of ``keypoints`` ``(T, 21, 3)`` (frames are independent)."""
        points = check_keypoints(keypoints)
        aligned, measured = self.align(points, scale=scale, mirror=mirror)
        q, error = self.solve(aligned)
        used = measured if scale is None and self.fixed_scale is None else \
            np.broadcast_to(np.asarray(scale if scale is not None else self.fixed_scale, dtype=np.float64), measured.shape)
        return KeypointFitResult(q=q, scale=np.array(used), error=error, hand_length=used * self.model_length)

    def fit_sequence(self, keypoints: np.ndarray) -> KeypointFitResult:
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


class LandmarkTracker:
    """The stream's landmark fit: LM on a hand's joints from the previous frame, one evaluation per step.

    The batch solver (:class:`~xlsdk.point_fit.PointLeastSquares`) evaluates its starts before its first
    step and drops the Jacobian of its last evaluation; in a stream both are known already, since the
    previous frame ended at the start of this one. So the tracker keeps the landmarks and their
    Jacobian at its last answer, and a frame costs one landmark evaluation per LM step: this was
    half of a teleoperation frame through the general solver (three evaluations for two steps).

    It also uses the hand's structure: a landmark moves only with the joints of its own finger, so the
    cost is a sum of independent parts (found from the Jacobian's sparsity at a few poses, not assumed:
    a hand whose landmarks share joints is one part). Each step solves the damped normal equations at
    :data:`TRACK_DAMPINGS` and keeps, per part, the best of the candidates and the current pose: a
    finger that needs Gauss-Newton and one that needs a short gradient step both get theirs in the
    same step, and no part ever gets worse. A part whose error is far beyond jitter (:data:`TRACK_LOST`)
    also weighs a relaxed pose (fixed points and Jacobian, computed once) as its start, so one finger
    lost by the tracker restarts from the relaxed pose while the others carry on.
    """

    def __init__(self, points: TipKinematics, lower: np.ndarray, upper: np.ndarray, relaxed: np.ndarray, *,
                 steps: int = TRACK_STEPS, tolerance: float = STREAM_TOLERANCE,
                 good_fit: float = TRACK_GOOD_FIT) -> None:
        self.points, self.steps, self.tolerance = points, steps, tolerance
        self._lower, self._upper = np.asarray(lower, dtype=np.float64), np.asarray(upper, dtype=np.float64)
        dof = points.dof
        probe = self._lower + (self._upper - self._lower) * np.random.default_rng(0).random((8, dof))
        landmarks, jacobian = points.evaluate(probe)
        count = landmarks.shape[1]
        self._good_fit = good_fit ** 2 * count  # the summed squared error at that RMS
        joint_part, landmark_part = _independent_parts(np.abs(jacobian).max(axis=(0, 2)) > 0.0)
        parts = int(max(joint_part.max(initial=-1), landmark_part.max(initial=-1))) + 1
        self._membership = np.zeros((count, parts))
        self._membership[np.arange(count), landmark_part] = 1.0
        self._lost = TRACK_LOST ** 2 * self._membership.sum(axis=0)  # a part's cost at TRACK_LOST RMS
        self._joint_part, self._landmark_part = joint_part, landmark_part
        self._joints, self._landmarks, self._parts = np.arange(dof), np.arange(count), np.arange(parts)
        self._ridge, self._damping = _damping_levels(dof)
        relaxed = np.clip(np.asarray(relaxed, dtype=np.float64), self._lower, self._upper)
        relaxed_points, relaxed_jacobian = points.evaluate(relaxed[None])
        self._relaxed = (relaxed, relaxed_points[0], relaxed_jacobian[0])
        self._state: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    @property
    def landmarks(self) -> np.ndarray:
        """The landmarks ``(L, 3)`` of the last answer (model palm frame, metres)."""
        if self._state is None:
            raise RuntimeError("LandmarkTracker has no answer yet")
        return self._state[1]

    @property
    def ready(self) -> bool:
        """Whether a previous answer is held (else :meth:`start` must seed the tracker)."""
        return self._state is not None

    def reset(self) -> None:
        """Forget the previous answer."""
        self._state = None

    def start(self, q: np.ndarray) -> None:
        """Seed the tracker at joints ``q`` ``(d,)`` (a fit made without a previous frame)."""
        q = np.clip(np.asarray(q, dtype=np.float64), self._lower, self._upper)
        landmarks, jacobian = self.points.evaluate(q[None])
        self._state = (q, landmarks[0], jacobian[0])

    def _part_costs(self, delta: np.ndarray) -> np.ndarray:
        """Squared residuals ``(..., L, 3)`` summed per independent part ``(..., parts)``."""
        return np.einsum("...li,...li->...l", delta, delta) @ self._membership

    def _mix(self, pick: np.ndarray, options: tuple[np.ndarray, np.ndarray, np.ndarray]) -> tuple[np.ndarray, ...]:
        """Per part, the option ``pick[part]`` of stacked joints ``(K, d)``, landmarks ``(K, L, 3)`` and Jacobians."""
        q, landmarks, jacobian = options
        rows = pick[self._landmark_part]
        joints = pick[self._joint_part]
        return q[joints, self._joints], landmarks[rows, self._landmarks], jacobian[rows, self._landmarks]

    def track(self, goal: np.ndarray) -> tuple[np.ndarray, float]:
        """Joints ``(d,)`` whose landmarks best match ``goal`` ``(L, 3)``, and their summed squared error."""
        if self._state is None:
            raise RuntimeError("LandmarkTracker.track before start(): seed it with a fitted pose")
        q, landmarks, jacobian = self._state
        cost = self._part_costs(landmarks - goal)
        if (cost > self._lost).any():  # a part the tracker lost may start again from the relaxed pose
            relaxed_q, relaxed_landmarks, relaxed_jacobian = self._relaxed
            costs = np.stack([cost, self._part_costs(relaxed_landmarks - goal)])
            pick = costs.argmin(axis=0)
            q, landmarks, jacobian = self._mix(pick, (np.stack([q, relaxed_q]),
                                                      np.stack([landmarks, relaxed_landmarks]),
                                                      np.stack([jacobian, relaxed_jacobian])))
            cost = costs[pick, self._parts]
        dof = len(q)
        for _ in range(self.steps):
            flat = jacobian.reshape(-1, dof)
            moves = _damped_moves(flat.T @ flat, flat.T @ (landmarks - goal).reshape(-1), self._ridge, self._damping)
            candidates = np.minimum(np.maximum(q + moves, self._lower), self._upper)
            reached, reached_jacobian = self.points.evaluate(candidates)
            options = np.concatenate([cost[None], self._part_costs(reached - goal)])  # (1 + K, parts)
            pick = options.argmin(axis=0)
            first = pick[0]
            if (pick == first).all():  # every part took the same option (the usual case): no mixing
                if first == 0:  # no part improved: the next step would propose the same candidates
                    break
                q, landmarks, jacobian = candidates[first - 1], reached[first - 1], reached_jacobian[first - 1]
            else:
                q, landmarks, jacobian = self._mix(pick, (np.concatenate([q[None], candidates]),
                                                          np.concatenate([landmarks[None], reached]),
                                                          np.concatenate([jacobian[None], reached_jacobian])))
            before, cost = cost.sum(), options[pick, self._parts]
            total = cost.sum()
            if total <= self._good_fit or total > (1.0 - self.tolerance) * before:
                break
        self._state = (q, landmarks, jacobian)
        return q, float(cost.sum())


class GeometryTracker:
    """The stream's refinement into one target hand, keeping the Jacobian of its previous answer.

    The same refinement as :class:`~xlsdk.latent.retarget.StreamRetargeter` (LM on the fingertip
    geometry of :class:`~xlsdk.latent.refine.GeometryRefiner`, from the better of the decode and the
    previous answer, :data:`TRACK_DAMPINGS` per step, never worse than its start), fed by the landmark
    tracker: the human hand's fingertips are landmarks it has just fitted (no second forward
    kinematics of the source), and the previous answer's fingertips and Jacobian are kept from the
    last frame's step. So a frame evaluates the target's fingertips at the decode (its Jacobian only
    when the decode is the better start) and at the step's candidates: about 2.2 evaluations a frame
    on the benchmark, where :class:`~xlsdk.latent.retarget.StreamRetargeter`'s two-step refinement
    made four (the source's included). Tested to give its one-step answers.
    """

    def __init__(self, source: Hand, target: Hand, *, steps: int = STREAM_REFINE_STEPS) -> None:
        self.refiner, self.steps = GeometryRefiner(source, target), steps
        fingers = [source.spec.manifest.fingers[f] for f in self.refiner.fingers]
        if any(finger.link not in MEDIAPIPE_LANDMARKS or any(finger.offset) for finger in fingers):
            raise DataFormatError(f"{source.name}: its fingertips must be tip landmark links (no offset) to refine "
                                  "from the landmark fit")
        tips = [MEDIAPIPE_LANDMARKS.index(finger.link) for finger in fingers]
        self.tip_rows = np.array([MOVING_LANDMARKS.index(i) for i in tips])  # rows of the tracker's landmarks
        self._center = np.asarray(source.scale.knuckle_center, dtype=np.float64)
        self._reach = float(source.scale.reach)
        self._axes = np.asarray(source.scale.axes, dtype=np.float64)
        dof = target.dof
        self._lower = np.asarray(target.spec.lower, dtype=np.float64)
        self._upper = np.asarray(target.spec.upper, dtype=np.float64)
        self._normalise = self._axes / self._reach
        self._ridge, self._damping = _damping_levels(dof)
        self._state: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def reset(self) -> None:
        """Forget the previous answer."""
        self._state = None

    def __call__(self, decoded: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
        """The refined joints ``(d,)`` for the target's decode ``(d,)`` and the fitted landmarks ``(15, 3)``."""
        tips = (landmarks.take(self.tip_rows, axis=0) - self._center) * self._normalise  # as system_from_source
        matrix, goal = self.refiner.goal_system(tips[None])  # the goal from fingertips already fitted
        matrix, goal = matrix[0], goal[0]
        points = self.refiner.points.evaluate(decoded[None], jacobian=False)[0][0]
        residual = matrix @ (points.reshape(-1) - goal)
        cost = residual @ residual
        previous = self._state
        if previous is not None:
            previous_residual = matrix @ (previous[1].reshape(-1) - goal)
            previous_cost = previous_residual @ previous_residual
        if previous is not None and previous_cost < cost:  # the previous answer, its Jacobian already known
            (q, points, jacobian), residual, cost = previous, previous_residual, previous_cost
        else:  # the decode: its Jacobian only now that it is the start
            q, jacobian = decoded, self.refiner.points.evaluate(decoded[None])[1][0]
        dof = len(q)
        for _ in range(self.steps):
            flat = matrix @ jacobian.reshape(-1, dof)
            moves = _damped_moves(flat.T @ flat, flat.T @ residual, self._ridge, self._damping)
            candidates = np.minimum(np.maximum(q + moves, self._lower), self._upper)
            reached, reached_jacobian = self.refiner.points.evaluate(candidates)
            residuals = (reached.reshape(len(candidates), -1) - goal) @ matrix.T
            costs = np.einsum("kr,kr->k", residuals, residuals)
            best = int(costs.argmin())
            if not costs[best] < cost:
                break
            q, points, jacobian = candidates[best], reached[best], reached_jacobian[best]
            residual, cost = residuals[best], costs[best]
        self._state = (q, points, jacobian)
        return q


def _damping_levels(dof: int) -> tuple[np.ndarray, np.ndarray]:
    """The trackers' ridge and damping ``(K, d, d)`` for :func:`_damped_moves`: :data:`TRACK_DAMPINGS` levels."""
    eye = np.eye(dof)
    return np.broadcast_to(_RIDGE * eye, (len(TRACK_DAMPINGS), dof, dof)).copy(), \
        np.asarray(TRACK_DAMPINGS)[:, None, None] * eye


def _damped_moves(normal: np.ndarray, gradient: np.ndarray, ridge: np.ndarray, damping: np.ndarray) -> np.ndarray:
    """LM moves ``(K, d)``, one per damping level: ``(N + ridge + lambda_k diag(N)) move = -gradient``.

    ``normal`` is ``J^T J`` ``(d, d)``, ``gradient`` ``J^T r`` ``(d,)``; ``ridge`` and ``damping`` come from
    :func:`_damping_levels` (the damping times ``diag(N)`` is a product with the diagonal, not a scatter).
    """
    damped = normal + ridge + damping * normal.diagonal()
    return np.linalg.solve(damped, (-gradient)[None, :, None])[..., 0]


def _independent_parts(depends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Part labels of joints ``(d,)`` and landmarks ``(L,)`` from which joints move which landmark ``(L, d)``.

    Two joints are in one part when some landmark moves with both; a landmark is in its joints' part
    (a landmark no joint moves, or a joint that moves none, is a part of its own).
    """
    count, dof = depends.shape
    label = np.arange(dof)
    changed = True
    while changed:  # merge the labels of every landmark's joints until stable (a few passes at most)
        changed = False
        for row in depends:
            seen = np.unique(label[row])
            if len(seen) > 1:
                label[np.isin(label, seen)] = seen[0]
                changed = True
    _, joint_part = np.unique(label, return_inverse=True)
    parts = int(joint_part.max(initial=-1)) + 1
    landmark_part = np.empty(count, dtype=int)
    for landmark, row in enumerate(depends):
        if row.any():
            landmark_part[landmark] = joint_part[np.flatnonzero(row)[0]]
        else:
            landmark_part[landmark], parts = parts, parts + 1
    return joint_part.astype(int), landmark_part


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
                       where: str = "keypoints") -> tuple[KeypointFitResult, dict[str, np.ndarray]]:
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
    refiners); each call aligns the palm (:meth:`KeypointFit.align_frame`), fits the human hand's joints
    from the previous frame's (:class:`LandmarkTracker`), encodes them once and decodes them into every
    target in one stacked pass (refined from the better of the decode and the previous answer with
    ``refine=True``, :class:`GeometryTracker`: up to ``refine_steps`` LM steps). Without ``hand_length`` the size is the median scale of the first
    :data:`SIZE_FRAMES` frames, then frozen, so the hand does not breathe with the tracker's noise.

    ``low_pass`` (in (0, 1], 1 = off) filters every hand's answer exponentially, ``y += low_pass * (x - y)``:
    a tracker's millimetres of jitter become joint jitter a robot should not chase; it trades lag for
    smoothness, as dex-retargeting's low-pass filter does (its teleoperation examples use 0.2). The
    fit and the refinement still start from the unfiltered previous frame, so the filter never biases them.
    """

    def __init__(self, source: Hand, targets: Sequence[Hand], *, handedness: Handedness = "right",
                 hand_length: float | None = None, refine: bool = False, refine_steps: int = STREAM_REFINE_STEPS,
                 low_pass: float = 1.0) -> None:
        if not (isinstance(low_pass, (int, float)) and 0.0 < low_pass <= 1.0):
            raise DataFormatError(f"low_pass must be in (0, 1] (1 = no filter, 0.2 = strong smoothing), got {low_pass!r}")
        self.low_pass = float(low_pass)
        self._filtered: dict[str, np.ndarray] = {}
        self.source = source
        self.fit = KeypointFit(source, handedness=handedness, hand_length=hand_length)
        self._encoder = NumpyHead(load_head(source))  # one pose per call: numpy passes (see fast_head)
        self._refiners = {t.name: GeometryTracker(source, t, steps=refine_steps)
                          for t in _targets(targets) if refine and t.name != source.name}
        # every target's decoder in one stacked numpy pass per frame (the heads share their widths)
        self._stacked = StackedDecoders({t.name: NumpyHead(load_head(t)) for t in targets if t.name != source.name})
        self._wants_source = any(t.name == source.name for t in targets)
        self._scales: list[float] = []
        self._scale = self.fit.fixed_scale  # None while the size is still being measured
        self._tracker = self.fit.tracker()
        self.previous: np.ndarray | None = None
        self.latent: np.ndarray | None = None
        self.error: float = float("nan")

    @property
    def scale(self) -> float | None:
        """The size in use: fixed, or the median of the frames seen so far (frozen after :data:`SIZE_FRAMES`)."""
        if self._scale is not None:
            return self._scale
        return float(np.median(self._scales)) if self._scales else None

    def reset(self) -> None:
        """Forget the previous frame and the measured size (a new person, a new recording)."""
        self.previous, self.latent, self._scales, self._filtered = None, None, [], {}
        self._scale = self.fit.fixed_scale
        self._tracker.reset()
        for refiner in self._refiners.values():
            refiner.reset()

    def __call__(self, keypoints: np.ndarray) -> dict[str, np.ndarray]:
        points = check_keypoints(keypoints, "keypoints frame")
        if points.shape[0] != 1:
            raise DataFormatError(f"keypoints frame: one frame (21, 3) per call, got {points.shape[0]} frames")
        aligned, measured = self.fit.align_frame(points[0], scale=self._scale)
        if self._scale is None:  # still measuring the size: this frame at the median of the frames so far
            self._scales.append(measured)
            size = float(np.median(self._scales))
            aligned = (aligned - self.fit._model_center) * (measured / size) + self.fit._model_center
            if len(self._scales) >= SIZE_FRAMES:
                self._scale = size
        if self._tracker.ready:
            q, cost = self._tracker.track(aligned[MOVING_LANDMARKS, :])
            error = float(np.sqrt(cost / len(MOVING_LANDMARKS)))
        else:  # the first frame: the batch fit from its fixed starts, then the tracker carries on from it
            fitted, errors = self.fit.solve(aligned[None])
            q, error = fitted[0], float(errors[0])
            self._tracker.start(q)
        self.previous, self.error = q, error
        pose = q[None]
        z = self._encoder.encode(pose)
        self.latent = z[0]
        decoded = self._stacked.decode(z)
        answers = {name: joints[0] for name, joints in decoded.items()}
        if self._refiners:
            landmarks = self._tracker.landmarks
            answers = {name: self._refiners[name](joints, landmarks) for name, joints in answers.items()}
        if self._wants_source:
            answers[self.source.name] = q.copy()
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
