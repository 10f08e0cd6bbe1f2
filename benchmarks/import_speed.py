"""How ``propose_manifest`` (the core of ``xlsdk new-hand``) scales with the size of the URDF.

issue 15 item 16: it was quadratic (a 2000-joint URDF took 49 s). Hands of 4 chains with N joints
each (thumb sideways, three fingers up) are generated for N*4 = 500, 1000, 2000 (and more with
``--sizes``), read once, then proposed ``--repeats`` times; the median time per proposal is printed with
the time per joint, which stays flat when the proposal is linear. Checked on the way: the proposal
finds the four fingers.

Run: ``.venv/bin/python benchmarks/import_speed.py [--sizes 500 1000 2000] [--repeats 3]``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from xlsdk.urdf import load_urdf
from xlsdk.manifest_proposal import propose_manifest

_FINGERS = {  # finger: (first joint origin, step between joints, axis)
    "thumb": ("-0.03 0.02 0.02", "-0.0003 0 0.0001", "0 0 1"),
    "index": ("-0.02 0 0.09", "0 0 0.0004", "-1 0 0"),
    "middle": ("0 0 0.095", "0 0 0.0004", "-1 0 0"),
    "ring": ("0.02 0 0.09", "0 0 0.0004", "-1 0 0"),
}


def long_hand_urdf(joints_per_finger: int) -> str:
    """A four-chain hand whose chains have ``joints_per_finger`` small revolute joints each."""
    links = ['<link name="palm"/>']
    joints = []
    for finger, (first, step, axis) in _FINGERS.items():
        parent = "palm"
        for k in range(joints_per_finger):
            child = f"{finger}_{k}"
            links.append(f'<link name="{child}"/>')
            joints.append(f'<joint name="{finger}_j{k}" type="revolute"><parent link="{parent}"/><child link="{child}"/>'
                          f'<origin xyz="{first if k == 0 else step}"/><axis xyz="{axis}"/>'
                          '<limit lower="0" upper="0.02" effort="1" velocity="1"/></joint>')
            parent = child
        links.append(f'<link name="{finger}_tip"/>')
        joints.append(f'<joint name="{finger}_tip_joint" type="fixed"><parent link="{parent}"/>'
                      f'<child link="{finger}_tip"/><origin xyz="0 0 0.005"/></joint>')
    return '<robot name="long">' + "".join(links + joints) + "</robot>"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 1000, 2000], help="total joints")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"{'joints':>7} {'propose (s)':>12} {'per joint (ms)':>15}")
    with tempfile.TemporaryDirectory() as directory:
        for size in args.sizes:
            path = Path(directory) / f"long{size}.urdf"
            path.write_text(long_hand_urdf(max(1, size // 4)), encoding="utf-8")
            model = load_urdf(path)
            times = []
            for _ in range(args.repeats):
                start = time.perf_counter()
                proposal = propose_manifest(model)
                times.append(time.perf_counter() - start)
            assert {f: c.tip_link for f, c in proposal.fingers.items()} == {f: f"{f}_tip" for f in _FINGERS}
            median = statistics.median(times)
            print(f"{size:>7} {median:>12.3f} {1000 * median / size:>15.3f}")


if __name__ == "__main__":
    main()
