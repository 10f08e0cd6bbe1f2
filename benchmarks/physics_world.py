"""The physics world's speed: render cost per frame and physics steps per second, for every reference hand.

Ratios against a peer measured in the same run: a 96x96 frame with the world's settings (no shadow map,
no multisampling) against the same frame with MuJoCo's defaults (shadow size 4096, 4x multisampling,
a shadow-casting light), and physics in free air against physics while a grasp holds the bottle.

    MUJOCO_GL=egl .venv/bin/python benchmarks/physics_world.py [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np


def _render_ms(world, camera: str, frames: int = 60) -> float:
    world.render(camera, 96)
    started = time.perf_counter()
    for _ in range(frames):
        world.render(camera, 96)
    return (time.perf_counter() - started) / frames * 1000.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", default=None)
    arguments = parser.parse_args()

    import mujoco

    import xlsdk
    from xlsdk.demo import demo_motion
    from xlsdk.demo.showcase import DEMO_OBJECT
    from xlsdk.grasp_sequence import grasp_frames, load_demo_trajectory
    from xlsdk.physics.grasp import execute_grasp
    from xlsdk.physics.scene import Scene
    from xlsdk.physics.world import World

    source, q_source, _ = load_demo_trajectory()
    open_frame, grasp_frame = grasp_frames(xlsdk.load_hand(source), q_source)
    rows = []
    for name in ("inspire", "ability", "xhand", "paxini"):
        hand = xlsdk.load_hand(name)
        world = World(hand, Scene(objects=(DEMO_OBJECT.resting(0.08, 0.0),)))
        fast = {camera: _render_ms(world, camera) for camera in ("front", "wrist")}
        # the peer: the same world with MuJoCo's default shadows and multisampling
        spec = world.spec.copy()
        spec.visual.quality.shadowsize = 4096
        spec.visual.quality.offsamples = 4
        spec.light("sun").castshadow = True
        peer = World.__new__(World)
        peer.model, peer.data, peer.config, peer._renderers = spec.compile(), None, world.config, {}
        peer.data = mujoco.MjData(peer.model)
        mujoco.mj_forward(peer.model, peer.data)
        slow = _render_ms(peer, "front", frames=10)
        world.reset()
        started = time.perf_counter()
        world.step(steps=2000)
        free = 2000 / (time.perf_counter() - started)
        q = demo_motion(hand)[0]
        result = execute_grasp(hand, DEMO_OBJECT, q[open_frame], q[grasp_frame])
        contact = result.steps / result.wall_s  # includes the grasp's own bookkeeping
        rows.append({"hand": name, "render_front_ms": round(fast["front"], 3),
                     "render_wrist_ms": round(fast["wrist"], 3),
                     "render_default_quality_ms": round(slow, 2), "render_speedup": round(slow / fast["front"], 1),
                     "steps_per_s_free": round(free), "steps_per_s_grasp": round(contact), "held": result.held})
        world.close()
    for row in rows:
        print(f"{row['hand']:8s} 96x96 front {row['render_front_ms']:.2f} ms, wrist {row['render_wrist_ms']:.2f} ms "
              f"(MuJoCo default quality {row['render_default_quality_ms']:.1f} ms: {row['render_speedup']}x); "
              f"physics {row['steps_per_s_free']} steps/s free, {row['steps_per_s_grasp']} steps/s grasping")
    if arguments.json:
        from xlsdk.files import write_json_atomic

        write_json_atomic(arguments.json, rows)
    return 0 if all(np.isfinite(row["render_front_ms"]) for row in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
