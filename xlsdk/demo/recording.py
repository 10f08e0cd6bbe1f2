"""Recordings of physics episodes as one self-contained web page (``xlsdk view HAND --physics``).

:class:`Recorder` renders the world's cameras every few control steps; :func:`write_player` writes the
frames (JPEG, base64) into a single HTML file with play/pause and a time slider, so an episode can be
looked at in any browser, sent to a colleague or attached to a report, with no server or MuJoCo.
:func:`record_demo_grasp` is what ``xlsdk view HAND --physics`` shows: the demo's power grasp on its
bottle (a face, like the rest of the demo: it takes a hand's name).
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

import numpy as np

from xlsdk.physics.world import World


class Recorder:
    """Collects frames of ``cameras`` every ``every`` calls (pass it as ``on_step``)."""

    def __init__(self, cameras: tuple[str, ...] = ("grasp", "wrist"), size: int = 160, every: int = 2) -> None:
        self.cameras = cameras
        self.size = size
        self.every = every
        self.frames: list[list[np.ndarray]] = []
        self.times: list[float] = []
        self._calls = 0

    def __call__(self, world: World) -> None:
        self._calls += 1
        if (self._calls - 1) % self.every:
            return
        self.frames.append([world.render(camera, self.size) for camera in self.cameras])
        self.times.append(world.time)


def _jpeg(image: np.ndarray) -> str:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG", quality=85)
    return base64.b64encode(buffer.getvalue()).decode()


def write_player(path: Path, recorder: Recorder, *, title: str, caption: str = "") -> Path:
    """Write the recording as an HTML player (atomically); returns ``path``."""
    from xlsdk.files import write_text_atomic

    frames = ",\n".join("[" + ",".join(f'"{_jpeg(image)}"' for image in views) + "]" for views in recorder.frames)
    times = ",".join(f"{t:.3f}" for t in recorder.times)
    side = recorder.size * 2
    views = "".join(f'<figure><img id="view{i}" width="{side}" height="{side}" alt="{html.escape(c)}">'
                    f"<figcaption>{html.escape(c)} camera</figcaption></figure>"
                    for i, c in enumerate(recorder.cameras))
    document = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body {{ font-family: system-ui, sans-serif; margin: 2rem; color: #222; }}
figure {{ display: inline-block; margin: 0 1rem 0 0; }}
img {{ image-rendering: auto; background: #ddd; }} input[type=range] {{ width: 40rem; }}</style></head><body>
<h1>{html.escape(title)}</h1><p>{html.escape(caption)}</p>
<div>{views}</div>
<p><button id="play">pause</button> <input id="slider" type="range" min="0" max="{len(recorder.frames) - 1}" value="0">
<span id="clock"></span></p>
<script>
const frames = [{frames}];
const times = [{times}];
const slider = document.getElementById("slider"), play = document.getElementById("play");
let playing = true;
function show(i) {{
  frames[i].forEach((data, v) => document.getElementById("view" + v).src = "data:image/jpeg;base64," + data);
  document.getElementById("clock").textContent =
    "t = " + times[i].toFixed(2) + " s (frame " + (i + 1) + "/" + frames.length + ")";
  slider.value = i;
}}
slider.oninput = () => {{ playing = false; play.textContent = "play"; show(+slider.value); }};
play.onclick = () => {{ playing = !playing; play.textContent = playing ? "pause" : "play"; }};
setInterval(() => {{ if (playing) show((+slider.value + 1) % frames.length); }}, 80);
show(0);
</script></body></html>
"""
    write_text_atomic(path, document)
    return path


def record_demo_grasp(hand_name: str, out: Path, *, size: int = 160) -> tuple[Path, str]:
    """Record the demo's power grasp (retargeted through the latent) on the bottle; (page, verdict)."""
    import xlsdk
    from xlsdk.demo import demo_motion
    from xlsdk.demo.showcase import DEMO_OBJECT
    from xlsdk.grasp_sequence import grasp_frames, load_demo_trajectory
    from xlsdk.physics.grasp import execute_grasp
    from xlsdk.physics.world_spec import PhysicsConfig

    hand = xlsdk.load_hand(hand_name)
    source, q_source, _ = load_demo_trajectory()
    open_frame, grasp_frame = grasp_frames(xlsdk.load_hand(source), q_source)
    q = demo_motion(hand)[0]
    recorder = Recorder(size=size)
    result = execute_grasp(hand, DEMO_OBJECT, q[open_frame], q[grasp_frame], config=PhysicsConfig(image_size=size),
                           on_step=recorder)
    verdict = f"{hand_name} {'holds' if result.held else 'drops'} the bottle (lifted {result.lifted_m * 1000:.0f} mm)"
    caption = (f"The power grasp of the shipped sequence, recorded on {source}, retargeted to {hand_name} through the "
               f"shared latent and executed in MuJoCo: {verdict}.")
    return write_player(out, recorder, title=f"{hand_name}: one grasp in physics", caption=caption), verdict
