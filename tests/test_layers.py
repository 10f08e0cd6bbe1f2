"""The layer rules of docs/architecture.md, read from the source with ``ast`` so that they stay true.

spec/URDF -> kinematics (``Hand``) -> latent -> policy; drivers move joints and know no learning;
physics builds on kinematics and drivers; nothing outside the CLI imports the CLI. Every import counts,
including those inside functions and under ``TYPE_CHECKING``: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "xlsdk"


def _imports(path: Path, source: str | None = None) -> set[str]:
    """Every module ``path`` imports (absolute names; relative imports resolved against its package)."""
    tree = ast.parse(source if source is not None else path.read_text(encoding="utf-8"), filename=str(path))
    package = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1])
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _modules(*relative: str) -> list[Path]:
    paths: list[Path] = []
    for item in relative:
        target = PACKAGE / item
        paths.extend(sorted(target.rglob("*.py")) if target.is_dir() else [target])
    return paths


def _violations(paths: list[Path], forbidden: tuple[str, ...]) -> list[str]:
    return sorted(
        f"{path.relative_to(PACKAGE.parent)} imports {name}"
        for path in paths for name in _imports(path)
        if any(name == layer or name.startswith(layer + ".") for layer in forbidden)
    )


#: the head fit's stop rule pulls toward IK answers with the shared solver (latent/refine.py), not by reaching
#: into the evaluator or the retargeter (issue 23)
FIT_RULE = "the fit imports a solver, not the evaluator or the retargeter"
FIT_FORBIDDEN = ("xlsdk.latent.evaluate", "xlsdk.latent.retarget")

RULES = {
    "kinematics knows no learning and no drivers": (
        ("hand.py", "kinematics.py", "geometry.py", "joint_slots.py", "ik.py", "tip_kinematics.py", "transforms.py"),
        ("xlsdk.latent", "xlsdk.policy", "xlsdk.drivers")),
    "keypoint files and the point fit are below the latent": (
        ("keypoints.py", "point_fit.py", "tip_kinematics.py"), ("xlsdk.latent", "xlsdk.policy", "xlsdk.drivers",
                                                                "xlsdk.human", "xlsdk.physics")),
    "drivers move joints: no latent, no demo": (("drivers",), ("xlsdk.latent", "xlsdk.demo", "xlsdk.policy")),
    "physics builds on kinematics and drivers": (("physics",), ("xlsdk.policy", "xlsdk.cli")),
    "the spec knows nothing above it": (
        ("manifest.py", "urdf.py", "hand_spec.py"),
        ("xlsdk.hand", "xlsdk.kinematics", "xlsdk.latent", "xlsdk.policy", "xlsdk.drivers", "xlsdk.physics")),
    "the latent is below the policy, drivers and physics": (
        ("latent",), ("xlsdk.policy", "xlsdk.drivers", "xlsdk.physics", "xlsdk.demo", "xlsdk.viewer")),
    "the shipped grasp sequence is data, below the demo and the check that read it": (
        ("grasp_sequence",), ("xlsdk.latent", "xlsdk.physics", "xlsdk.demo", "xlsdk.conformance", "xlsdk.plugins",
                              "xlsdk.drivers", "xlsdk.policy")),
    "the policy is the model and its training: no benchmark, no world, no onboarding": (
        ("policy",), ("xlsdk.bench", "xlsdk.physics", "xlsdk.new_hand", "xlsdk.drivers", "xlsdk.demo")),
    FIT_RULE: (("latent/fit.py",), FIT_FORBIDDEN),
}


def test_only_faces_import_the_benchmarks() -> None:
    """The benchmarks are consumers: the CLI and the benchmarks themselves may import them, nothing else."""
    library = [path for path in PACKAGE.rglob("*.py")
               if not {"cli", "bench"} & set(path.relative_to(PACKAGE).parts)]
    assert len(library) > 50
    assert _violations(library, ("xlsdk.bench",)) == []


@pytest.mark.parametrize("rule", sorted(RULES))
def test_layer_rule(rule: str) -> None:
    sources, forbidden = RULES[rule]
    paths = [path for path in _modules(*sources) if path.exists()]
    assert paths, f"no sources for {sources}: the rule would pass vacuously"
    assert _violations(paths, forbidden) == [], rule


def test_nothing_outside_the_cli_imports_the_cli() -> None:
    library = [path for path in PACKAGE.rglob("*.py") if "cli" not in path.relative_to(PACKAGE).parts
               and path.name != "__main__.py"]
    assert len(library) > 50
    assert _violations(library, ("xlsdk.cli",)) == []


def test_the_checker_sees_lazy_relative_and_type_checking_imports() -> None:
    """The rules are only as good as the import finder: it must catch every way of importing."""
    assert "xlsdk.drivers.safety" in _imports(PACKAGE / "drivers" / "base.py"), "a module-level import"
    source = ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from xlsdk.latent.head_network import LatentHead\n"
              "def f():\n    import xlsdk.bench.crosshand.episode\n    from ..demo import demo_motion\n    from . import sim\n")
    names = _imports(PACKAGE / "drivers" / "probe.py", source)
    assert {"xlsdk.latent.head_network", "xlsdk.bench.crosshand.episode", "xlsdk.demo", "xlsdk.demo.demo_motion",
            "xlsdk.drivers.sim"} <= names
    assert _violations([PACKAGE / "drivers" / "base.py"], ("xlsdk.drivers",)), "a violation is reported"


#: faces resolve names and may use the public API through the package root; the library takes a Hand
FACES = {"cli", "bench", "demo", "viewer.py", "gymnasium_env.py", "__init__.py", "__main__.py", "pytest_plugin.py"}
#: what "resolving a name" means for the library: the plugin host, however it is imported
HOST = ("xlsdk.plugins",)
#: packages that take Hands and never resolve a name, with no exception (issue 23): the faces load the hands
#: (``xlsdk.load_hand``, ``xlsdk.load_core_hands`` for ``fit_head``'s ``core_hands``) and hand them over
NO_HOST = ("latent", "physics")


def _host_imports(path: Path, source: str | None = None) -> list[str]:
    return sorted(name for name in _imports(path, source)
                  if any(name == host or name.startswith(host + ".") for host in HOST))


@pytest.mark.parametrize("package", NO_HOST)
def test_the_latent_and_physics_resolve_no_names(package: str) -> None:
    """The latent and the engine take Hands; finding a hand by name (the plugin host) is the faces' job.

    Issue 23's rule, stated once for both packages (physics is also held to the wider engine rule below,
    which adds the package root and every face)."""
    paths = _modules(package)
    assert len(paths) > 8
    assert [f"{path.relative_to(PACKAGE)} imports {name}" for path in paths for name in _host_imports(path)] == []


@pytest.mark.parametrize("package", NO_HOST)
def test_a_planted_plugin_host_import_fails_the_rule(package: str) -> None:
    """Absolute, relative and lazy imports of the host are all seen, in either package."""
    planted = ("def f(name):\n    from xlsdk.plugins import get_plugin_host\n    return get_plugin_host().load_hand(name)\n"
               "def g():\n    from .. import plugins\n")
    hits = set(_host_imports(PACKAGE / package / "planted.py", planted))
    assert hits == {"xlsdk.plugins", "xlsdk.plugins.get_plugin_host"}
    taking_a_hand = "def f(hand):\n    from xlsdk.hand import Hand\n    from .. import plugin_manifest\n    return hand\n"
    assert _host_imports(PACKAGE / package / "planted.py", taking_a_hand) == [], "only the host counts"


def _root_imports(path: Path, source: str | None = None) -> list[str]:
    """``import xlsdk`` or ``from xlsdk import name`` where ``name`` is public API, not a submodule."""
    tree = ast.parse(source if source is not None else path.read_text(encoding="utf-8"), filename=str(path))
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend(f"{path.name}: import xlsdk" for alias in node.names if alias.name == "xlsdk")
        elif isinstance(node, ast.ImportFrom) and node.module == "xlsdk" and not node.level:
            found.extend(f"{path.name}: from xlsdk import {alias.name}" for alias in node.names
                         if not (PACKAGE / f"{alias.name}.py").exists() and not (PACKAGE / alias.name).is_dir())
    return found


def _library() -> list[Path]:
    """Every module but the faces. A face is a top-level name of the package: ``xlsdk/__init__.py`` is one,
    ``xlsdk/drivers/__init__.py`` is library (matching any path part once let every package's __init__ pass)."""
    return [path for path in PACKAGE.rglob("*.py") if path.relative_to(PACKAGE).parts[0] not in FACES]


def test_the_library_is_every_module_but_the_top_level_faces() -> None:
    library = {str(path.relative_to(PACKAGE)) for path in _library()}
    assert {"drivers/__init__.py", "latent/__init__.py", "physics/__init__.py", "conformance/__init__.py"} <= library
    assert not {"__init__.py", "__main__.py", "viewer.py", "cli/app.py", "bench/harness.py", "demo/__init__.py"} & library


def test_library_modules_do_not_import_the_package_root() -> None:
    assert len(_library()) > 40
    assert [hit for path in _library() for hit in _root_imports(path)] == []


#: what the engine may not reach: the faces that turn names into Hands (and the plugin host they use)
NOT_FOR_THE_ENGINE = ("xlsdk.plugins", "xlsdk.demo", "xlsdk.viewer", "xlsdk.gymnasium_env", "xlsdk.cli", "xlsdk.bench",
                      "xlsdk.conformance")


def _engine_problems(path: Path, source: str | None = None) -> list[str]:
    """A physics module's imports of the package root, the plugin host or a face."""
    names = _imports(path, source)
    faces = sorted(name for name in names
                   if any(name == face or name.startswith(face + ".") for face in NOT_FOR_THE_ENGINE))
    return _root_imports(path, source) + [f"{path.name}: {name}" for name in faces]


def test_physics_is_an_engine_that_takes_hands() -> None:
    """physics/ takes Hands: no package root, no plugin host, no demo (nor any other face) behind its back."""
    paths = _modules("physics")
    assert len(paths) > 8
    assert [problem for path in paths for problem in _engine_problems(path)] == []


def test_a_planted_name_lookup_in_physics_fails_the_rule() -> None:
    planted = ("import xlsdk\ndef f(name):\n    from xlsdk.plugins import get_plugin_host\n"
               "    return get_plugin_host()\n"
               "def g():\n    from ..demo import demo_motion\n    from ..demo.showcase import DEMO_OBJECT\n")
    hits = set(_engine_problems(PACKAGE / "physics" / "planted.py", planted))
    assert {"planted.py: import xlsdk", "planted.py: xlsdk.plugins", "planted.py: xlsdk.plugins.get_plugin_host",
            "planted.py: xlsdk.demo", "planted.py: xlsdk.demo.demo_motion", "planted.py: xlsdk.demo.showcase",
            "planted.py: xlsdk.demo.showcase.DEMO_OBJECT"} == hits
    assert _engine_problems(PACKAGE / "physics" / "env.py") == [], "the env takes a Hand"


def test_no_library_module_reads_the_tests_folder() -> None:
    """Test data is the suite's business: a library path built from "tests" breaks in an installed wheel."""
    readers = sorted(str(path.relative_to(PACKAGE)) for path in _library()
                     for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
                     if isinstance(node, ast.Constant) and node.value in ("tests", "tests/"))
    assert readers == []


def test_a_planted_root_import_fails_the_rule() -> None:
    planted = "def f():\n    import xlsdk\n    from xlsdk import load_hand, hookspecs\n"
    hits = _root_imports(PACKAGE / "latent" / "planted.py", planted)
    assert hits == ["planted.py: import xlsdk", "planted.py: from xlsdk import load_hand"]
    assert _violations([PACKAGE / "latent" / "head_loading.py"], ("xlsdk.latent",)), "a layer violation is seen"


#: XML parsers: the URDF is parsed once, by xlsdk.urdf (validated there); physics builds from its records
XML_PARSERS = ("lxml", "xml", "defusedxml", "yourdfpy")


def _xml_parsers(path: Path, source: str | None = None) -> list[str]:
    return [f"{path.name}: {name}" for name in sorted(_imports(path, source))
            if any(name == parser or name.startswith(parser + ".") for parser in XML_PARSERS)]


def test_physics_parses_no_xml() -> None:
    """physics/ reads links, shapes and inertials from :mod:`xlsdk.urdf`'s records, never the URDF text again."""
    assert [problem for path in _modules("physics") for problem in _xml_parsers(path)] == []


def test_a_planted_xml_parse_in_physics_fails_the_rule() -> None:
    planted = "from lxml import etree\ndef f():\n    import xml.etree.ElementTree as ET\n"
    hits = _xml_parsers(PACKAGE / "physics" / "planted.py", planted)
    assert hits == ["planted.py: lxml", "planted.py: lxml.etree", "planted.py: xml.etree.ElementTree"]


def _class_homes(sources: dict[str, str]) -> dict[str, list[str]]:
    """Public top-level class name -> the modules defining one, for names defined more than once."""
    homes: dict[str, list[str]] = {}
    for module, source in sources.items():
        for node in ast.parse(source).body:
            if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                homes.setdefault(node.name, []).append(module)
    return {name: sorted(modules) for name, modules in homes.items() if len(modules) > 1}


def test_one_class_per_name() -> None:
    """One home per concept (issue 23): two ``Scene`` classes (the engine's table, the cross-hand benchmark's
    picture) or two ``FitResult`` (a head fit, a keypoint fit) make a reader guess which one an import means."""
    sources = {str(path.relative_to(PACKAGE)): path.read_text(encoding="utf-8") for path in PACKAGE.rglob("*.py")}
    assert len(sources) > 50
    assert _class_homes(sources) == {}


def test_a_planted_second_class_of_a_name_fails_the_rule() -> None:
    planted = {"physics/scene.py": "class Scene:\n    pass\nclass _Private:\n    pass\n",
               "bench/tasks.py": "class Scene:\n    pass\nclass _Private:\n    pass\ndef f():\n    class Scene: pass\n"}
    assert _class_homes(planted) == {"Scene": ["bench/tasks.py", "physics/scene.py"]}, "private and nested ones aside"


def test_a_planted_evaluator_import_in_the_fit_fails_the_rule() -> None:
    """The fit rule sees the old way (a lazy import of the evaluator's reachable poses) and passes the solver."""
    fit = PACKAGE / "latent" / "fit.py"
    assert "xlsdk.latent.refine.reachable_poses" in _imports(fit), "the fit uses the solver"
    planted = "def _reach_targets():\n    from xlsdk.latent.evaluate import reachable_poses\n    from .retarget import retarget\n"
    names = _imports(fit, planted)
    assert sorted(name for name in names if any(name == f or name.startswith(f + ".") for f in FIT_FORBIDDEN)) == [
        "xlsdk.latent.evaluate", "xlsdk.latent.evaluate.reachable_poses", "xlsdk.latent.retarget",
        "xlsdk.latent.retarget.retarget"]
    assert not [name for name in _imports(fit, "from xlsdk.latent.refine import reachable_poses\n")
                if name.startswith(FIT_FORBIDDEN)]


#: the LeRobot plugin boundary: LeRobot builds the policy config and the processor steps from JSON that names a
#: hand (``{"hand": "xhand"}``), so these two turn that name into a Hand; the rest of policy/ is handed Hands
POLICY_LOOKUPS = ("configuration_xlvla.py", "latent_steps.py")


def test_the_policy_takes_hands_except_where_lerobot_names_them() -> None:
    """Training (``to_training_set``, ``widest_hand``, ``read_demo_frames``) takes a ``Mapping[str, Hand]``
    from its callers; only the two modules LeRobot configures by name look a hand up, and both still do (an
    exception that no longer needs to be one is taken off the list)."""
    paths = _modules("policy")
    assert len(paths) > 5
    assert [f"{path.name} imports {name}" for path in paths if path.name not in POLICY_LOOKUPS
            for name in _host_imports(path)] == []
    assert all(_host_imports(PACKAGE / "policy" / name) for name in POLICY_LOOKUPS)


def test_a_planted_name_lookup_in_policy_training_fails_the_rule() -> None:
    planted = ("def widest_hand(hand_names):\n    from xlsdk.plugins import get_plugin_host\n"
               "    return max(get_plugin_host().load_hand(name).dof for name in hand_names)\n")
    assert _host_imports(PACKAGE / "policy" / "train.py", planted) == ["xlsdk.plugins", "xlsdk.plugins.get_plugin_host"]


#: the faces a library module may never import (the CLI and the benchmarks have their own tests above)
FACE_MODULES = ("xlsdk.demo", "xlsdk.viewer", "xlsdk.gymnasium_env", "xlsdk.pytest_plugin", "xlsdk.__main__")


def test_no_library_module_imports_a_face() -> None:
    """Issue 23: the demo, the viewer and the gymnasium entry point sit on top; nothing in the library (every
    module outside FACES) reaches up to them, lazily or not."""
    assert len(_library()) > 50
    assert _violations(_library(), FACE_MODULES) == []


def test_a_planted_face_import_in_the_library_fails_the_rule() -> None:
    planted = "def f():\n    from xlsdk.demo.showcase import DEMO_OBJECT\n    from .. import viewer\n"
    names = _imports(PACKAGE / "conformance" / "planted.py", planted)
    assert sorted(name for name in names if name.startswith(FACE_MODULES)) == [
        "xlsdk.demo.showcase", "xlsdk.demo.showcase.DEMO_OBJECT", "xlsdk.viewer"]
