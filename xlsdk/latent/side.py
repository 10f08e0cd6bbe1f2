"""Is a hand set up as the side and palm frame it really is? Ask its reachable floor.

A hand's ``handedness`` and ``[palm_frame]`` decide where its fingertips land in the shared geometry
(a left hand is mirrored into a right one, :class:`~xlsdk.geometry.HandScale`). Set up wrong (a right
hand declared left, a palm frame whose normal points out of the back of the hand), every comparison is
against the wrong image of the canonical hand, and no fit can repair it: the latent is then merely "as
good as the hand allows", which the reachable-floor rule of ``xlsdk check`` would accept.

So the same question is asked of every way the hand could have been set up instead: for the canonical
hand's poses, how close can *any* joint vector of the hand bring its fingertips to the canonical ones
(the reachable floor, :func:`~xlsdk.latent.evaluate.reachable_error`, from the naive mapping and random
starts; no head involved)? The candidates are the setup as declared, its mirror image (the other
handedness), the palm turned over (+X and +Y reversed: the fingers curling out of the back of the hand)
and both. A hand set up right reaches the canonical geometry best as declared; when another candidate's
floor is clearly lower (below :data:`SIDE_MARGIN` of the declared one), the setup is wrong and that
candidate says how to fix it. A symmetric gripper reaches about as well either way: never "clearly".
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict

from xlsdk.hand import Hand
from xlsdk.transforms import matrix_rpy, rpy_matrix
from xlsdk.manifest import PalmFrame

# torch and the IK are imported where the floors are computed: the result types stay light for new-hand

#: the mirror image whose reachable floor is below this fraction of the declared setup's is "clearly
#: better". Measured on the import corpus (256 canonical poses): hands set up right have their mirror image
#: at 1.3x (three-finger dex3) to 6x (20-DOF hand) their floor; set up mirrored, the right side is at 0.77x
#: (dex3) down to 0.17x; a symmetric gripper is within 0.9-1.1x either way
SIDE_MARGIN = 0.8
#: a palm turned over must do better still: a gripper's palm normal is a convention (gripper3 turned over
#: reaches 0.70x of its proposed floor), while a hand set up right has its palm turned over at 2.4x-11x
FRAME_MARGIN = 0.5
MIRROR_SETUPS = ("as declared", "mirrored")
ALL_SETUPS = ("as declared", "mirrored", "palm turned over", "turned over and mirrored")


class SetupFloor(BaseModel):
    """One way the hand could be set up, and how close it gets to the canonical hand's fingertips."""

    model_config = ConfigDict(frozen=True)
    setup: str  # "as declared", "mirrored", "palm turned over", "turned over and mirrored"
    handedness: str
    palm_rpy: tuple[float, float, float]
    floor: float  # mean reachable fingertip error (reach units)
    margin: float = 1.0  # clearly better than the declared setup: floor below margin x the declared floor


class SideComparison(BaseModel):
    """The declared setup's reachable floor against the other candidates', on the same canonical poses."""

    model_config = ConfigDict(frozen=True)
    hand: str
    reference: str
    poses: int
    setups: tuple[SetupFloor, ...]  # the declared one first

    @property
    def declared(self) -> SetupFloor:
        return self.setups[0]

    @property
    def best_other(self) -> SetupFloor:
        """The other setup that beats the declared one by the widest margin (or comes closest to it)."""
        return min(self.setups[1:], key=lambda s: s.floor / s.margin)

    @property
    def wrong(self) -> bool:
        """Another setup reaches the canonical geometry clearly better than the declared one."""
        best = self.best_other
        return best.floor < best.margin * self.declared.floor

    @property
    def ratio(self) -> float:
        """The best other setup's floor over the declared one's (> 1: the declared one is better)."""
        return self.best_other.floor / max(self.declared.floor, 1e-12)

    def summary(self) -> str:
        listing = ", ".join(f"{s.setup} {s.floor:.3f}" for s in self.setups)
        return f"reachable floor against {self.reference} on {self.poses} poses: {listing}"

    def verdict(self) -> str:
        """One line for people: the side chosen and by how much the other setups trail (or lead)."""
        declared, best = self.declared, self.best_other
        if self.wrong:
            return (f"declared {declared.handedness}, but the {best.setup} setup ({best.handedness} hand) reaches the "
                    f"{self.reference} hand's fingertips clearly better: reachable floor {best.floor:.3f} vs "
                    f"{declared.floor:.3f} on {self.poses} poses")
        return (f"{declared.handedness} hand: the {best.setup} setup ({best.handedness} hand) reaches the "
                f"{self.reference} hand's fingertips {self.ratio:.2f}x worse (reachable floor {best.floor:.3f} vs "
                f"{declared.floor:.3f} on {self.poses} poses)")

    def fix(self) -> str:
        """What to change in hand.toml to get the better setup."""
        best = self.best_other
        changes = []
        if best.handedness != self.declared.handedness:
            changes.append(f'handedness = "{best.handedness}"')
        if not np.allclose(best.palm_rpy, self.declared.palm_rpy, atol=1e-9):
            changes.append("[palm_frame] rpy = [" + ", ".join(f"{v:.6g}" for v in best.palm_rpy) + "]")
        return " and ".join(changes)


def reference_hand_name() -> str:
    """The hand the side is judged against: the installed core latent's canonical hand, else the built-in one."""
    from xlsdk.errors import LatentError
    from xlsdk.latent.head_loading import installed_core_manifest

    try:
        return installed_core_manifest().canonical
    except LatentError:  # no core latent installed yet (a fresh checkout scaffolding its first hand)
        return "canonical"


def setup_candidates(hand: Hand, setups: tuple[str, ...] = ALL_SETUPS) -> list[tuple[str, Hand]]:
    """The hand as declared, mirrored, with its palm turned over, and both (transient Hands, same URDF)."""
    manifest = hand.spec.manifest
    other = "left" if manifest.handedness == "right" else "right"
    turned = matrix_rpy(np.asarray(rpy_matrix(manifest.palm_frame.rpy)) @ np.diag([-1.0, -1.0, 1.0]), snap=1e-12)
    variants = [("mirrored", other, manifest.palm_frame.rpy), ("palm turned over", manifest.handedness, turned),
                ("turned over and mirrored", other, turned)]
    out = [("as declared", hand)]
    for setup, handedness, rpy in variants:
        if setup not in setups:
            continue
        changed = manifest.model_copy(update={"handedness": handedness,
                                              "palm_frame": PalmFrame(xyz=manifest.palm_frame.xyz, rpy=rpy)})
        out.append((setup, Hand(hand.spec.model_copy(update={"manifest": changed}), plugin=hand.plugin,
                                head_dir=hand.head_dir)))
    return out


def compare_sides(hand: Hand, reference: Hand, *, setups: tuple[str, ...] = ALL_SETUPS, n: int = 256,
                  seed: int = 2027, steps: int = 25, random_starts: int = 1) -> SideComparison:
    """Reachable floor of each setup candidate of ``hand`` on ``n`` uniform poses of ``reference``, from the
    naive mapping and ``random_starts`` random poses (``steps`` LM iterations each). Every candidate gets
    the same poses and starts. Seconds for a few hundred poses.

    Uniform poses, not the grasp banks: a mirror image is wrong everywhere, and the banks' IK would
    cost more than the comparison itself.
    """
    import torch

    from xlsdk.latent.naive import naive_retarget
    from xlsdk.latent.refine import reachable_poses

    q = reference.sample(n, torch.Generator().manual_seed(seed), dtype=torch.float64)
    floors = []
    for setup, candidate in setup_candidates(hand, setups):
        with torch.no_grad():
            start = naive_retarget(q, reference, candidate).to(torch.float64)
            floor = float(reachable_poses(reference, candidate, q, [start], seed=seed, steps=steps,
                                          random_starts=random_starts)[1].mean())
        manifest = candidate.spec.manifest
        margin = 1.0 if setup == "as declared" else SIDE_MARGIN if setup == "mirrored" else FRAME_MARGIN
        floors.append(SetupFloor(setup=setup, handedness=manifest.handedness, palm_rpy=manifest.palm_frame.rpy,
                                 floor=floor, margin=margin))
    return SideComparison(hand=hand.name, reference=reference.name, poses=int(q.shape[0]), setups=tuple(floors))
