"""From a vendor's URDF to a proposed hand manifest: the tedious part of ``xlsdk new-hand``.

Nothing here is hand-specific; the proposals come from the tree (:mod:`.chains`), its names
(:mod:`.names`) and its geometry at the zero pose (:mod:`.palm_geometry`, :mod:`.tips`), put together
by :mod:`.propose`:

1. **palm**: walk down from the root while only one child branch contains movable joints (arms, wrist
   joints, mounting flanges: skipped and listed); the first link where several such branches diverge is
   the palm. A branch reached through fixed joints that splits again extends the palm.
2. **finger chains**: each branch of the palm ends in leaves; the chain's tip link is the leaf farthest
   from the palm (a tip frame beats a tactile pad hanging off a middle phalanx). A branch whose joints
   only drive other joints through ``<mimic>`` and that carries nothing (a spread joint on the palm) is a
   driver, not a finger.
3. **joints**: the movable non-mimic joints on the chains, plus every joint a chain's mimic joints follow
   (wherever it sits), in URDF order; mimic and fixed ones are derived.
4. **names first**: each chain's link and joint names are split into tokens (``rh_FFJ3`` -> rh, ffj;
   ``R_index_proximal`` -> r, index, proximal) and matched case-insensitively against thumb/th,
   index/ff/first/fore, middle/mf, ring/rf, little/pinky/lf. Numbers are never names (``finger_0``,
   ``joint_3.0``). A chain gets a finger when its names agree on one.
5. **then geometry**: the thumb is the chain pointing most against the others, curling against them and
   sitting nearest the wrist; the palm frame has +Z along the other fingers, +Y the side they curl to
   (perpendicular to the line of their knuckles) and +X = Y x Z: a right-handed frame built from the
   fingers alone, so the palm link's axes never decide the side. The thumb's side is where it is mounted
   and where its workspace lies along X (not where its tip happens to point at the zero pose: a thumb
   resting folded across the palm is still on its side). A right hand has its thumb on -X, a left hand on
   +X. The other chains are ordered by their signed position along X from the thumb's side: index,
   middle, ring, little. Names win over geometry for fingers; for the side, names (``lh_``, ``_r``, the
   robot's name) are a second opinion used only when the geometry cannot tell. Every disagreement is a note.
6. **tip offset**: a tip frame (a geometry-less leaf) is the tip; else the end of the tip link's primitive
   geometry along the finger; else the farthest point of its mesh from its joint (when the mesh file
   resolves); else the link origin, with a warning saying how to set ``offset``.
"""

from __future__ import annotations

from xlsdk.manifest_proposal.chains import find_palm
from xlsdk.manifest_proposal.names import Handedness, fingers_in_name, name_tokens
from xlsdk.manifest_proposal.propose import ChainProposal, ManifestProposal, finger_order_problems, propose_manifest
from xlsdk.manifest_proposal.tips import MAX_MESH_COORDINATE

__all__ = ["MAX_MESH_COORDINATE", "ChainProposal", "Handedness", "ManifestProposal", "find_palm",
           "finger_order_problems", "fingers_in_name", "name_tokens", "propose_manifest"]
