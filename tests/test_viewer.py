"""`xlsdk view`: the page loads in a real headless Chromium, a slider moves the hand, a screenshot is taken."""

from __future__ import annotations

import io
import os
import shutil
import socket
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import xlsdk
from xlsdk.viewer import HandViewer

CHROMIUM_ARGS = ["--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def _chromium() -> str:
    path = os.environ.get("XLSDK_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.fail("the viewer test needs Chromium: `apt-get install chromium` (make test installs it when run as "
                    "root) or point XLSDK_CHROMIUM at a Chromium/Chrome binary")
    return path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


SCENE = (slice(150, 700), slice(250, 830))  # the 3D view, away from the GUI panel and notifications


def _wait_for_hands(page, timeout_s: float = 15.0) -> np.ndarray:  # noqa: ANN001 - a Playwright page
    """Screenshots until the 3D region shows a hand (dark geometry on the light background)."""
    import time

    deadline = time.monotonic() + timeout_s
    while True:
        image = np.asarray(Image.open(io.BytesIO(page.screenshot())).convert("L"), dtype=np.float64)
        drawn = (image[SCENE] < 200).mean()
        if drawn > 0.01:
            return image
        if time.monotonic() > deadline:
            raise AssertionError(f"no hand drawn in the 3D view after {timeout_s} s ({drawn:.4f} of the pixels)")
        page.wait_for_timeout(250)


def test_viewer_page_in_headless_chromium(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    viewer = HandViewer(xlsdk.load_hand("inspire"), port=_free_port())
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=_chromium(), headless=True, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1200, "height": 800})
            page.goto(f"http://127.0.0.1:{viewer.port}")
            page.get_by_text("Connected").wait_for(timeout=30_000)
            assert page.locator("canvas").count() >= 1, "the 3D view is on the page"
            sliders = page.locator("[role=slider]")
            expected = viewer.hand.dof + len(viewer.latent_sliders)
            page.wait_for_function(f"document.querySelectorAll('[role=slider]').length >= {expected}", timeout=30_000)
            assert sliders.count() == expected, "a slider per joint and per latent dimension"

            before_image = _wait_for_hands(page)
            index = viewer.hand.joint_names.index("index_mcp")
            before_q, before_z, before_updates = viewer.q.copy(), viewer.z.copy(), viewer.updates
            sliders.nth(index).focus()
            for _ in range(25):
                page.keyboard.press("ArrowRight")
            page.wait_for_function(
                f"document.querySelectorAll('[role=slider]')[{index}].getAttribute('aria-valuenow') > {before_q[index] + 0.1}")
            page.wait_for_timeout(500)
            assert viewer.q[index] > before_q[index] + 0.1, "the slider moved the hand's joint on the server"
            assert viewer.updates > before_updates
            assert not np.allclose(viewer.z, before_z), "the latent sliders follow the joints"

            moved_image = _wait_for_hands(page)
            assert np.abs(moved_image - before_image).mean() > 0.05, "the rendered hand moved with the slider"
            viewer.retarget_to.value = "xhand"  # the second hand follows through the latent
            page.wait_for_timeout(1000)
            final = _wait_for_hands(page)
            assert viewer.target is not None and viewer.target.hand.name == "xhand"
            assert np.abs(final - moved_image).mean() > 0.02, "the second hand appeared on the page"
            page.screenshot(path=str(tmp_path / "viewer.png"))
            browser.close()
    finally:
        viewer.stop()
    assert final.shape == (800, 1200)
    assert final.std() > 10, "the screenshot is not blank"
    assert (tmp_path / "viewer.png").stat().st_size > 10_000


def test_the_retarget_hand_follows_the_main_hand_through_the_latent() -> None:
    """Server side, no browser: the second hand shows decode(xhand, z) of the main hand's latent."""
    viewer = HandViewer(xlsdk.load_hand("inspire"), port=_free_port())
    try:
        viewer.retarget_to.value = "xhand"
        assert viewer.target is not None and viewer.target.hand.name == "xhand"
        index = viewer.hand.joint_names.index("index_mcp")
        viewer.joint_sliders[index].value = float(viewer.q[index] + 0.5)
        assert np.allclose(viewer.z, xlsdk.encode("inspire", viewer.q), atol=1e-6)
        assert viewer.target.q is not None
        assert np.allclose(viewer.target.q, xlsdk.decode("xhand", viewer.z), atol=1e-6)
        expected = xlsdk.retarget(viewer.q, "inspire", "xhand")
        assert np.allclose(viewer.target.q, expected, atol=1e-5), "the viewer shows what retarget computes"
        viewer.retarget_to.value = "(none)"
        assert viewer.target is None
    finally:
        viewer.stop()


@pytest.mark.parametrize("args, message", [
    (["--port", "70000"], "port 70000 is not a TCP port"),
    (["--port", "-5"], "port -5 is not a TCP port"),
    (["--host", "8.8.8.8"], "8.8.8.8 is not an address of this machine"),
    (["--host", "not_a_host"], "host 'not_a_host' is neither an IP address nor a valid host name"),
    (["--host", "no-such-host.invalid"], "host 'no-such-host.invalid' does not resolve"),
])
@pytest.mark.timeout(60)
def test_view_refuses_an_address_it_cannot_serve(args: list[str], message: str) -> None:
    """Issue 15 item 9: these printed a thread traceback (or nothing) and hung forever; now exit 1 at once."""
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "xlsdk", "view", "inspire", *args], capture_output=True,
                            text=True, timeout=50)
    assert result.returncode == 1, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1, "one line"


@pytest.mark.timeout(60)
def test_a_busy_port_is_refused_and_port_0_picks_a_free_one() -> None:
    from xlsdk.errors import ListenAddressError
    from xlsdk.listen import check_listen_address

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(ListenAddressError, match=f"port {port} on 127.0.0.1 is already in use"):
            check_listen_address("127.0.0.1", port)
        with pytest.raises(ListenAddressError, match="already in use"):
            HandViewer(xlsdk.load_hand("inspire"), port=port)  # viser would have moved to port + 1 silently
    assert check_listen_address("localhost", 0) in ("127.0.0.1", "::1")
    viewer = HandViewer(xlsdk.load_hand("inspire"), port=0)
    try:
        assert 0 < viewer.port <= 65535
        with socket.create_connection(("127.0.0.1", viewer.port), timeout=10):
            pass  # something listens where the viewer says it does
    finally:
        viewer.stop()


def test_a_hand_whose_urdf_keeps_skipped_wrist_joints_is_shown(tmp_path: Path) -> None:
    """A vendor URDF with a wrist above the palm (skipped by new-hand) still poses: skipped joints stay at 0."""
    from xlsdk.hand import Hand
    from xlsdk.hand_spec import load_hand_spec
    from xlsdk.new_hand import create_hand_plugin

    create_hand_plugin("wristy", Path(__file__).parent / "data" / "hands" / "five22.urdf", tmp_path / "wristy")
    hand = Hand(load_hand_spec(tmp_path / "wristy" / "xlsdk_wristy" / "hand.toml"))
    viewer = HandViewer(hand, port=0)
    try:
        model = viewer.main.urdf._urdf  # the yourdfpy model viser draws
        assert len(model.actuated_joint_names) > hand.dof, "the corpus hand keeps its wrist joints in the URDF"
        index = 3
        viewer.joint_sliders[index].value = float(hand.limits[index].upper)
        cfg = dict(zip(model.actuated_joint_names, model.cfg, strict=True))
        assert cfg[hand.joint_names[index]] == pytest.approx(hand.limits[index].upper)
        skipped = [name for name in model.actuated_joint_names if name not in hand.joint_names]
        assert skipped and all(cfg[name] == 0.0 for name in skipped)
    finally:
        viewer.stop()
