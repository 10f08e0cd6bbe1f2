"""Camera or video -> hand keypoints as JSON lines on stdout: the camera front-end of ``xlsdk teleop``.

This file runs as a script in the teleop environment (``make teleop-env``: MediaPipe and what it pulls
in, nothing of xlsdk), never imported by the library. MediaPipe 0.10.14 needs protobuf < 5 and
opencv-contrib, which conflict with the core environment's, so the two talk through a pipe: one line
per frame, ``{"frame": i, "keypoints": [[x, y, z] x 21], "handedness": "Right"}`` when a hand is seen
(MediaPipe's world landmarks: metres, x right, y down, z away from the camera, a right-handed frame) or
``{"frame": i, "keypoints": null}`` when none is; a last ``{"end": true, "frames": n}``. A failure to
open the source is one ``{"error": "..."}`` line and exit code 3, for the caller to report.

Usage: ``python camera_keypoints.py (--video FILE | --camera N) [--max-frames N]``.
"""

from __future__ import annotations

import argparse
import json
import sys


def _emit(record: dict) -> None:
    sys.stdout.write(json.dumps(record) + "\n")
    sys.stdout.flush()  # the reader acts on every frame as it comes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--video", help="a video file")
    source.add_argument("--camera", type=int, help="a camera index (0 = the first)")
    parser.add_argument("--max-frames", type=int, default=0, help="stop after this many frames (0 = all)")
    args = parser.parse_args()

    import cv2
    from mediapipe.python.solutions import hands as mp_hands

    capture = cv2.VideoCapture(args.video if args.video is not None else args.camera)
    if not capture.isOpened():
        what = f"video {args.video}" if args.video is not None else f"camera {args.camera}"
        _emit({"error": f"cannot open {what}"})
        return 3
    frames = 0
    with mp_hands.Hands(static_image_mode=False, max_num_hands=1, model_complexity=1) as tracker:
        while not args.max_frames or frames < args.max_frames:
            ok, image = capture.read()
            if not ok:
                break
            result = tracker.process(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
            landmarks = result.multi_hand_world_landmarks
            if landmarks:
                points = [[p.x, p.y, p.z] for p in landmarks[0].landmark]
                label = result.multi_handedness[0].classification[0].label
                _emit({"frame": frames, "keypoints": points, "handedness": label})
            else:
                _emit({"frame": frames, "keypoints": None})
            frames += 1
    capture.release()
    if frames == 0 and args.camera is not None:
        _emit({"error": f"camera {args.camera} gave no frames"})
        return 3
    _emit({"end": True, "frames": frames})
    return 0


if __name__ == "__main__":
    sys.exit(main())
