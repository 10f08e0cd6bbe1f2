"""The copier template: the reference plugins are renders of it (no drift), and `copier update` works."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import copier
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "templates" / "hand-plugin"
REFERENCE = ("inspire", "ability", "xhand", "paxini")
# the files the template owns (the rest — driver.py, README.md, docs page, URDF, hand.toml — belong to the plugin)
OWNED = ("pyproject.toml", "tests/test_conformance.py", "{package}/__init__.py", ".github/workflows/ci.yml")


@pytest.mark.parametrize("name", REFERENCE)
def test_reference_plugin_is_a_render_of_the_template(name: str, tmp_path: Path) -> None:
    plugin = ROOT / "plugins" / f"xlsdk-{name}"
    answers = yaml.safe_load((plugin / ".copier-answers.yml").read_text())
    assert (plugin / answers["_src_path"]).resolve() == TEMPLATE, "rendered from this repository's template"
    data = {k: v for k, v in answers.items() if not k.startswith("_")}
    copier.run_copy(str(TEMPLATE), str(tmp_path), data=data, defaults=True, quiet=True)
    for relative in OWNED:
        relative = relative.format(package=f"xlsdk_{name}")
        assert (plugin / relative).read_text() == (tmp_path / relative).read_text(), f"{name}: {relative} drifted"


def _git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=cwd, check=True,
                   capture_output=True, timeout=60)


def test_copier_update_brings_template_improvements(tmp_path: Path) -> None:
    template = tmp_path / "template"
    shutil.copytree(TEMPLATE, template)
    ci = Path(".github") / "workflows" / "ci.yml.jinja"
    (template / ci).unlink()  # v1 predates the CI workflow: plugins rendered then get it by updating
    _git("init", "-q", cwd=template)
    _git("add", ".", cwd=template)
    _git("commit", "-qm", "v1", cwd=template)
    _git("tag", "v1", cwd=template)

    plugin = tmp_path / "xlsdk-gadget"
    copier.run_copy(str(template), str(plugin), data={"hand_name": "gadget", "vendor": "ACME"}, defaults=True,
                    quiet=True, vcs_ref="v1")
    driver = plugin / "xlsdk_gadget" / "driver.py"
    driver.write_text(driver.read_text() + "\n# the vendor's own transport code\n")
    _git("init", "-q", cwd=plugin)
    _git("add", ".", cwd=plugin)
    _git("commit", "-qm", "rendered", cwd=plugin)

    # the template improves: a new marker in the conformance test and a classifier in pyproject
    test_file = template / "tests" / "test_conformance.py.jinja"
    test_file.write_text(test_file.read_text().replace("import pytest\n", "import pytest  # template v2\n"))
    pyproject = template / "pyproject.toml.jinja"
    assert 'license = "Apache-2.0"\n' in pyproject.read_text()
    pyproject.write_text(pyproject.read_text().replace('license = "Apache-2.0"\n',
                                                       'license = "Apache-2.0"\nkeywords = ["xlsdk", "dexterous-hand"]\n'))
    shutil.copyfile(TEMPLATE / ci, template / ci)
    _git("add", ".", cwd=template)
    _git("commit", "-qam", "v2", cwd=template)
    _git("tag", "v2", cwd=template)

    copier.run_update(str(plugin), defaults=True, overwrite=True, quiet=True, vcs_ref="v2")

    assert "# template v2" in (plugin / "tests" / "test_conformance.py").read_text()
    assert 'keywords = ["xlsdk", "dexterous-hand"]' in (plugin / "pyproject.toml").read_text()
    assert "the vendor's own transport code" in driver.read_text(), "the vendor's driver is kept"
    workflow = yaml.safe_load((plugin / ".github" / "workflows" / "ci.yml").read_text())
    assert "xlsdk publish gadget --out dist" in [step.get("run") for step in _steps(workflow)]
    assert yaml.safe_load((plugin / ".copier-answers.yml").read_text())["_commit"] == "v2"


def _steps(workflow: dict) -> list[dict]:
    return [step for job in workflow["jobs"].values() for step in job["steps"]]


def test_rendered_ci_runs_the_conformance_tests_and_the_publish_check(tmp_path: Path) -> None:
    """The workflow a new plugin gets: valid YAML for hosted CI, on every push, with the hand's own name."""
    copier.run_copy(str(TEMPLATE), str(tmp_path), data={"hand_name": "my_hand", "vendor": "ACME"}, defaults=True,
                    quiet=True)
    text = (tmp_path / ".github" / "workflows" / "ci.yml").read_text()
    workflow = yaml.safe_load(text)
    assert "push" in workflow[True] and "pull_request" in workflow[True]  # YAML 1.1 reads the key `on` as True
    runs = " ; ".join(str(step.get("run", "")) for step in _steps(workflow))
    assert "python -m pytest tests" in runs and (tmp_path / "tests" / "test_conformance.py").is_file()
    assert "xlsdk publish my_hand --out dist" in runs and "pip install" in runs and "-e ." in runs
    assert "{{" not in text and "{%" not in text, "nothing left unrendered"
