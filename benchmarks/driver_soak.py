"""The long safety soak: 10,000 hostile commands through every registered driver, counted at two taps.

The suite streams 1,000 commands through each in-process driver and 300 through each protocol driver
(tests/test_safety_soak.py::test_safety_soak) and holds them to the same rules as this run; the 10,000-command
run used to be a slow test of its own (about 35 s of the suite on two cores) that only made the run longer,
so it lives here. It reuses the suite's soak (random commands, the transport tap on ``_write_positions``,
the device taps of the simulated Inspire, Ability, XHand and Paxini devices), prints each driver's counts and
rate, and exits 1 when any command outside the rules reached a transport or a device.

Run: ``.venv/bin/python benchmarks/driver_soak.py [--commands 10000] [--seed 7] [--json PATH]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the suite's soak and device taps

from test_safety_soak import Counts, every_driver, run_soak  # noqa: E402

from xlsdk.files import write_json_atomic  # noqa: E402


def problems(counts: Counts) -> list[str]:
    """The suite's rules (tests/test_safety_soak.py::_check), as sentences instead of assertions."""
    found = []
    bad_kinds = counts.kinds.get("nan", 0) + counts.kinds.get("inf", 0) + counts.kinds.get("wrong length", 0)
    if counts.rejected != bad_kinds:
        found.append(f"rejected {counts.rejected}, but {bad_kinds} commands were non-finite or of the wrong length")
    if counts.delivered != counts.sent - counts.rejected:
        found.append(f"delivered {counts.delivered} of {counts.sent - counts.rejected} valid commands")
    if counts.transport_writes < counts.delivered:
        found.append(f"{counts.transport_writes} transport writes for {counts.delivered} delivered commands")
    for tap, non_finite, outside in (("transport", counts.transport_non_finite, counts.transport_out_of_limit),
                                     ("device", counts.device_non_finite, counts.device_out_of_limit)):
        if non_finite or outside:
            found.append(f"{non_finite} non-finite and {outside} out-of-limit values at the {tap}")
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path, help="Also write every driver's counts here.")
    args = parser.parse_args()
    report, failed = {}, 0
    print(f"{'hand/driver':28s} {'sent':>6s} {'rejected':>8s} {'delivered':>9s} {'rate Hz':>8s}  verdict")
    for hand, driver in every_driver():
        started = time.perf_counter()
        counts = run_soak(hand, driver, args.commands, seed=args.seed)
        seconds = time.perf_counter() - started
        found = problems(counts)
        failed += bool(found)
        report[f"{hand}/{driver}"] = {**asdict(counts), "seconds": round(seconds, 2), "problems": found}
        print(f"{hand + '/' + driver:28s} {counts.sent:6d} {counts.rejected:8d} {counts.delivered:9d} "
              f"{counts.sent / seconds:8.0f}  {'; '.join(found) or 'ok'}", flush=True)
    if args.json:
        write_json_atomic(args.json, report)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
