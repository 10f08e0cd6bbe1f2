"""Writes the small bad-input files of tests/test_bad_input.py (run once; the files are committed).

Every file is a trajectory, archive or record for the inspire hand (6 joints: pinky_mcp, ring_mcp,
middle_mcp, index_mcp, thumb_cmc_pitch, thumb_cmc_yaw) that is broken in exactly one way. Variants that
are clearer built on the fly (manifests, URDFs, plugins) are made in the tests themselves.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
JOINTS = ("pinky_mcp", "ring_mcp", "middle_mcp", "index_mcp", "thumb_cmc_pitch", "thumb_cmc_yaw")
HEADER = "timestamp," + ",".join(JOINTS)
MEMBER = zipfile.ZipInfo("q.npy", date_time=(1980, 1, 1, 0, 0, 0))  # a fixed date: rewriting changes nothing
MID = np.array([0.85, 0.85, 0.85, 0.85, 0.25, 0.6])


def poses(n: int = 20) -> np.ndarray:
    return MID + 0.1 * np.sin(np.arange(n)[:, None] / 3.0 + np.arange(6)[None])


def csv_text(q: np.ndarray, timestamps: np.ndarray | None = None) -> str:
    times = np.arange(len(q)) / 10 if timestamps is None else timestamps
    rows = (f"{float(t)!r}," + ",".join(repr(float(v)) for v in row) + "\n" for t, row in zip(times, q))
    return HEADER + "\n" + "".join(rows)


def npy_bytes(array: np.ndarray, *, allow_pickle: bool = False) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


def main() -> None:
    q = poses()
    np.save(HERE / "good.npy", q)
    (HERE / "good.csv").write_text(csv_text(q))
    (HERE / "bom.csv").write_bytes(b"\xef\xbb\xbf" + csv_text(q).encode())
    (HERE / "latin1.csv").write_bytes(("# capteur: doigt \xe9tendu\n" + csv_text(q)).encode("latin-1"))
    (HERE / "text.npy").write_text("0.1 0.2 0.3 0.4 0.2 0.1\n")
    (HERE / "pickle.npy").write_bytes(npy_bytes(np.array([{"q": 1}], dtype=object), allow_pickle=True))
    with zipfile.ZipFile(HERE / "object_member.npz", "w") as archive:
        archive.writestr(MEMBER, npy_bytes(np.array([[1, 2, 3, 4, 5, 6]], dtype=object), allow_pickle=True))
    (HERE / "not_zip.npz").write_text("q = [[0.1, 0.2, 0.3, 0.4, 0.2, 0.1]]\n")
    header = npy_bytes(np.zeros((1, 6)))
    text = header[10:128].decode("latin-1").replace("(1, 6), ", "(100000000000, 6), ")
    # a valid v1.0 header (padded to 128 bytes) claiming 10^11 rows, followed by one row of data
    body = text.rstrip(" \n")
    padded = body + " " * (128 - 10 - len(body) - 1) + "\n"
    (HERE / "huge_header.npy").write_bytes(header[:8] + len(padded).to_bytes(2, "little") + padded.encode("latin-1")
                                           + np.zeros(6).tobytes())
    np.save(HERE / "complex.npy", q.astype(np.complex128) + 1j)
    np.savez(HERE / "complex.npz", q=q.astype(np.complex128) * 1j)
    np.save(HERE / "strings.npy", np.array([["0.1"] * 6]))
    bad = q.copy()
    bad[2, 3] = np.nan
    np.save(HERE / "nan.npy", bad)
    inf_rows = csv_text(q).splitlines()
    inf_rows[3] = inf_rows[3].rsplit(",", 1)[0] + ",inf"
    (HERE / "inf.csv").write_text("\n".join(inf_rows) + "\n")
    text_rows = csv_text(q).splitlines()
    text_rows[4] = text_rows[4].replace(text_rows[4].split(",")[2], "closed", 1)
    (HERE / "text_cell.csv").write_text("\n".join(text_rows) + "\n")
    short = csv_text(q).splitlines()
    short[2] = ",".join(short[2].split(",")[:3])
    (HERE / "short_row.csv").write_text("\n".join(short) + "\n")
    (HERE / "numeric_header.csv").write_text("\n".join(csv_text(q).splitlines()[1:]) + "\n")
    (HERE / "duplicate_column.csv").write_text(csv_text(q).replace("ring_mcp", "pinky_mcp", 1))
    (HERE / "empty.csv").write_text("")
    (HERE / "header_only.csv").write_text(HEADER + "\n")
    (HERE / "wrong_columns.csv").write_text("timestamp,a,b,c\n0,1,2,3\n")
    nan_time = csv_text(q).splitlines()
    nan_time[2] = "nan," + nan_time[2].split(",", 1)[1]
    (HERE / "nan_timestamp.csv").write_text("\n".join(nan_time) + "\n")
    times = np.arange(20) / 10
    np.savez(HERE / "nan_timestamp.npz", q=q, timestamp=np.where(np.arange(20) == 5, np.nan, times))
    np.savez(HERE / "inf_timestamp.npz", q=q, timestamp=np.where(np.arange(20) == 0, np.inf, times))
    np.savez(HERE / "timestamps_2d.npz", q=q, timestamp=np.stack([times, times], axis=1))
    np.savez(HERE / "timestamps_short.npz", q=q, timestamp=times[:5])
    np.savez(HERE / "no_q.npz", joints=q)
    (HERE / "truncated.npy").write_bytes(npy_bytes(q)[:-40])
    with zipfile.ZipFile(HERE / "truncated_member.npz", "w") as archive:
        archive.writestr(MEMBER, npy_bytes(q)[:-48])
    np.save(HERE / "wide.npy", np.zeros((4, 9)))
    np.save(HERE / "three_d.npy", np.zeros((2, 3, 6)))
    np.save(HERE / "empty.npy", np.zeros((0, 6)))
    np.save(HERE / "huge_values.npy", np.full((3, 6), 1e30))
    (HERE / "huge_values.csv").write_text(csv_text(np.full((3, 6), 1e30)))
    far = q.copy()
    far[:4, 0] = 100.0
    far[7, 5] = -100.0
    np.save(HERE / "far_outside.npy", far)
    for name, text in (("lerobot_corrupt_info", '{"codebase_version": "v3.0", "features": {'),
                       ("lerobot_no_features", json.dumps({"codebase_version": "v3.0", "fps": 10}))):
        (HERE / name / "meta").mkdir(parents=True, exist_ok=True)
        (HERE / name / "meta" / "info.json").write_text(text)
    for name, text in (("policy_corrupt", '{"action_space": "latent", "hands": ['),
                       ("policy_bad_fields", json.dumps({"action_space": "joints", "hands": ["inspire"], "tasks": [],
                                                          "image_key": "observation.images.scene", "fps": -10,
                                                          "frames": 12, "steps": 10, "final_loss": 0.1,
                                                          "seconds": 1.0}))):
        (HERE / name).mkdir(exist_ok=True)
        (HERE / name / "xlsdk_policy.json").write_text(text)


def write_extras() -> None:
    """Inputs holding more than the joints (issue 22 item 5): a CSV with a force column and free-text notes
    (a comma inside one), an .npz with a gripper array (one value per pose) and a calibration array (not)."""
    q = poses()
    times = np.arange(len(q)) / 10
    lines = [HEADER + ",grip_force,notes"]
    for index, (t, row) in enumerate(zip(times, q)):
        note = '"closing, slowly"' if index == 3 else ("contact" if index == 7 else "")
        lines.append(f"{float(t)!r}," + ",".join(repr(float(v)) for v in row) + f",{0.5 * index},{note}")
    (HERE / "extra_columns.csv").write_text("\n".join(lines) + "\n")
    np.savez(HERE / "extra_arrays.npz", q=q, timestamp=times, gripper=np.linspace(0.0, 1.0, len(q)),
             calibration=np.array([1.0, 2.0, 3.0]))


if __name__ == "__main__":
    main()
    write_extras()
