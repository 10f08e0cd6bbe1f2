"""Publishing a hand plugin (``xlsdk publish HAND``): build its sdist and wheel, then prove the wheel works.

Why a command and not the one ``python -m build`` line: a wheel that builds is not a wheel that works.
A mesh the URDF names may never reach the package, a package-data pattern may leave the head out, a
head may be fitted for a core latent users no longer have, and the source tree on the vendor's machine
hides all of it (it is importable there). So after the build, :func:`publish_plugin`

1. checks, before building, what makes a published plugin useless or unpublishable: the head for the
   installed core latent is fitted and current, every mesh the URDF names is a file inside the package,
   the project declares a license and an ``xlsdk`` version range;
2. builds the sdist, then the wheel *from the sdist* (``python -m build --no-isolation``: offline, with
   the build backend already installed), so both are proven at once;
3. opens the wheel and finds the manifest, the URDF, every mesh, every head with its ``head.json``, and
   in the metadata the license, version and ``xlsdk`` requirement (which this xlsdk must satisfy);
4. installs the wheel into a fresh virtual environment that has the core and its dependencies but not
   the plugin's source (the current environment's site-packages linked entry by entry, the plugin's own
   editable hook and metadata left out), and runs ``xlsdk check HAND`` there, from a neutral directory,
   after asserting that the hand it loads lives inside that environment.

Nothing is uploaded: the report names the files to upload and the command that uploads them.
"""

from __future__ import annotations

import email.parser
import json
import os
import re
import subprocess
import sys
import sysconfig
import tempfile
import tomllib
import zipfile
from importlib.metadata import Distribution, PackageNotFoundError, distribution
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlparse

from pydantic import BaseModel, ConfigDict

from xlsdk.errors import PublishError

if TYPE_CHECKING:
    from xlsdk.hand import Hand

#: seconds each subprocess may take (the build, the install, the check in the clean environment)
BUILD_TIMEOUT = 600
CHECK_TIMEOUT = 900


class PublishReport(BaseModel):
    """What ``xlsdk publish`` built and proved (``--json`` prints it)."""

    model_config = ConfigDict(frozen=True)
    hand: str
    distribution: str
    version: str
    license: str
    requires_xlsdk: str
    fingerprint: str  # the installed core latent's, which the head in use was fitted against
    fingerprints: list[str]  # every core latent the wheel carries a head for
    source: Path
    sdist: Path
    wheel: Path
    wheel_files: list[str]  # the hand's files found in the wheel (manifest, URDF, meshes, heads)
    clean_venv_checked: bool
    installed_manifest: str | None  # where the clean environment found hand.toml (inside it)
    check_output: str
    upload_command: str


def publish_plugin(hand: Hand, *, source: Path | None = None, out: Path | None = None,
                   verify: bool = True, work_dir: Path | None = None) -> PublishReport:
    """Build and prove the distribution of ``hand``'s plugin; see the module docstring.

    ``source``: the plugin's project folder (default: where its editable install points). ``out``: where
    the sdist and wheel go (default ``SOURCE/dist``). ``verify=False`` skips the clean-environment install
    and check (the wheel's contents are still checked). ``work_dir`` holds the clean environment (default:
    a temporary folder, removed afterwards).
    """
    from xlsdk.latent.head_loading import installed_core_manifest

    dist = _plugin_distribution(hand, required=source is None)
    source = _source_tree(hand, dist, source)
    project = _read_project(source)
    name = str(project.get("name", ""))
    if not name:
        raise PublishError(f"{source / 'pyproject.toml'}: field `project.name` missing",
                           hint=f'add name = "xlsdk-{hand.name.replace("_", "-")}" under [project]')
    fingerprint = installed_core_manifest().fingerprint
    fingerprints = _check_head(hand)
    license_text = _check_license(project, source)
    requires_xlsdk = _check_xlsdk_requirement(project, source)
    package_dir = hand.spec.manifest_path.parent.resolve()
    expected = _expected_files(hand, package_dir)
    sdist, wheel = _build(source, out or source / "dist", name)
    found, version = _check_wheel(wheel, expected, fingerprint)
    installed_manifest, check_output = None, ""
    if verify:
        if work_dir is None:
            with tempfile.TemporaryDirectory(prefix="xlsdk-publish-") as tmp:
                installed_manifest, check_output = _check_in_clean_venv(hand, dist, wheel, Path(tmp))
        else:
            installed_manifest, check_output = _check_in_clean_venv(hand, dist, wheel, work_dir)
    return PublishReport(
        hand=hand.name, distribution=name, version=version, license=license_text,
        requires_xlsdk=requires_xlsdk, fingerprint=fingerprint, fingerprints=list(fingerprints), source=source,
        sdist=sdist, wheel=wheel, wheel_files=found, clean_venv_checked=verify, installed_manifest=installed_manifest,
        check_output=check_output, upload_command=f"python -m twine upload {_shell_path(sdist)} {_shell_path(wheel)}",
    )


# --- where the plugin comes from -------------------------------------------------------------------


def _plugin_distribution(hand: Hand, *, required: bool) -> Distribution | None:
    """The installed distribution that registered ``hand`` (None for an in-memory plugin, when not ``required``)."""
    from xlsdk.plugins import get_plugin_host

    records = [r for r in get_plugin_host().hand_records(include_core=True) if r.name == hand.name]
    if records and records[0].core:
        raise PublishError(f"{hand.name} is the core's own hand: it ships inside xlsdk, not as a plugin")
    name = records[0].distribution if records else None
    if name is None:
        if not required:
            return None
        raise PublishError(f"hand {hand.name!r} comes from no installed distribution (registered in memory?)",
                           hint="install its plugin (`pip install -e ./xlsdk-NAME`) or pass its folder with --source")
    try:
        return distribution(name)
    except PackageNotFoundError:
        if not required:
            return None  # registered in memory under a distribution's name: the source folder says the rest
        raise PublishError(f"distribution {name!r} of hand {hand.name!r} is not installed",
                           hint="pass the plugin's project folder with --source") from None


def _source_tree(hand: Hand, dist: Distribution | None, source: Path | None) -> Path:
    """The plugin's project folder: ``source``, or the folder its editable install points at."""
    if source is None:
        assert dist is not None  # required when no source is given
        direct = json.loads(dist.read_text("direct_url.json") or "{}")
        url = str(direct.get("url", ""))
        if not (direct.get("dir_info", {}).get("editable") and url.startswith("file://")):
            raise PublishError(f"{dist.metadata['Name']} is installed from a wheel, not from its source folder",
                               hint="pass the plugin's project folder: `xlsdk publish HAND --source DIR`")
        source = Path(unquote(urlparse(url).path))  # file:///path%20with%20spaces
    source = source.resolve()
    if not (source / "pyproject.toml").is_file():
        raise PublishError(f"{source}: no pyproject.toml (not a plugin's project folder)",
                           hint="pass the folder `xlsdk new-hand` created, e.g. --source ./xlsdk-my-hand")
    if not hand.spec.manifest_path.resolve().is_relative_to(source):
        raise PublishError(f"{source} does not hold the installed {hand.name} (its hand.toml is "
                           f"{hand.spec.manifest_path})", hint="pass the plugin's own project folder to --source")
    return source


def _read_project(source: Path) -> dict:
    path = source / "pyproject.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, OSError) as exc:
        raise PublishError(f"{path}: unreadable ({exc})") from None
    project = data.get("project")
    if not isinstance(project, dict):
        raise PublishError(f"{path}: no [project] table", hint="render the plugin with `xlsdk new-hand`")
    return project


# --- what must hold before building ----------------------------------------------------------------


def _check_head(hand: Hand) -> tuple[str, ...]:
    """The head for the installed core latent is fitted and current; returns every fingerprint carried."""
    from xlsdk.latent.head_loading import head_status

    status = head_status(hand)
    if status.state == "none":
        raise PublishError(f"{hand.name}: no head fitted ({hand.head_path} missing); a plugin without one "
                           "cannot decode any latent", hint=f"fit it first: `xlsdk fit {hand.name}`")
    if status.state in ("fingerprint mismatch", "stale"):
        raise PublishError(f"{hand.name}: stale head, {status.detail}",
                           hint=f"refit it before publishing: `xlsdk fit {hand.name}`")
    if status.state != "fitted":
        raise PublishError(f"{hand.name}: head {status.state}: {status.detail}")
    return status.fingerprints


def _check_license(project: dict, source: Path) -> str:
    """An SPDX ``license`` expression, a ``license = {text|file}`` table, or ``license-files``."""
    license_field = project.get("license")
    if isinstance(license_field, str) and license_field.strip():
        return license_field.strip()
    if isinstance(license_field, dict):
        if license_field.get("text"):
            return str(license_field["text"]).strip()
        if license_field.get("file"):
            if not (source / str(license_field["file"])).is_file():
                raise PublishError(f"{source / 'pyproject.toml'}: field `project.license.file` names "
                                   f"{license_field['file']!r}, which does not exist")
            return f"file {license_field['file']}"
    files = project.get("license-files")
    if files:
        return "files " + ", ".join(map(str, files))
    raise PublishError(f"{source / 'pyproject.toml'}: field `project.license` missing: users cannot know whether "
                       "they may use the plugin", hint='add an SPDX expression under [project], e.g. '
                       'license = "Apache-2.0"')


_XLSDK_REQUIREMENT = re.compile(r"^\s*xlsdk\s*(\[[^\]]*\])?\s*(?P<spec>[^;]*)")


def _check_xlsdk_requirement(project: dict, source: Path) -> str:
    """The plugin names the xlsdk versions it works with, and this xlsdk is one of them."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    from xlsdk.version import __version__

    where = f"{source / 'pyproject.toml'}: field `project.dependencies`"
    for requirement in project.get("dependencies", []) or []:
        match = _XLSDK_REQUIREMENT.match(str(requirement))
        if not match or not re.match(r"^\s*xlsdk\s*($|[\[<>=!~;])", str(requirement)):
            continue
        spec = match.group("spec").strip()
        if not spec:
            raise PublishError(f"{where}: {requirement!r} names no version range",
                               hint=f'say which xlsdk versions the head works with, e.g. "xlsdk>={__version__}"')
        try:
            specifier = SpecifierSet(spec)
        except InvalidSpecifier:
            raise PublishError(f"{where}: {requirement!r} is not a valid version range") from None
        if not specifier.contains(__version__, prereleases=True):
            raise PublishError(f"{where}: {requirement!r} excludes this xlsdk ({__version__}), which fitted the head",
                               hint=f'widen the range to include {__version__}')
        return f"xlsdk{spec}"
    raise PublishError(f"{where}: no xlsdk requirement", hint='add "xlsdk>=0.1" to project.dependencies')


def _expected_files(hand: Hand, package_dir: Path) -> dict[str, str]:
    """The hand's files the wheel must carry: wheel path -> what it is. Meshes must be inside the package."""
    root = package_dir.parent
    expected = {_relative(hand.spec.manifest_path, root): "manifest", _relative(hand.urdf_path, root): "URDF"}
    for link in hand.spec.urdf.links:
        for shape in link.geometry:
            if shape.kind != "mesh" or not shape.filename:
                continue
            resolved = hand.spec.urdf.resolve_mesh(shape.filename)
            if resolved is None:
                raise PublishError(
                    f"{hand.urdf_path}: link {link.name!r} names mesh {shape.filename!r}, which the package lacks "
                    f"(looked from {hand.urdf_path.parent})",
                    hint=f"put the file where the URDF says, inside {package_dir} (e.g. under urdf/), or remove the "
                         "<mesh> from the URDF")
            if not resolved.resolve().is_relative_to(package_dir):
                raise PublishError(f"{hand.urdf_path}: link {link.name!r}: mesh {shape.filename!r} resolves to "
                                   f"{resolved}, outside the package {package_dir}: the wheel would not carry it",
                                   hint="copy the mesh into the package's urdf/ folder")
            expected[_relative(resolved, root)] = "mesh"
    heads = list(package_dir.glob("head.*")) + list((package_dir / "heads").glob("*/head.*"))
    for path in heads:
        if path.suffix in (".json", ".safetensors"):
            expected[_relative(path, root)] = "head"
    return expected


def _relative(path: Path, root: Path) -> str:
    return path.resolve().relative_to(root).as_posix()


# --- building and reading the wheel -----------------------------------------------------------------


def _build(source: Path, out: Path, name: str) -> tuple[Path, Path]:
    """sdist, then the wheel built from it; written to a temporary folder and renamed into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".build-", dir=out) as tmp:
        command = [sys.executable, "-m", "build", "--no-isolation", "--outdir", tmp, str(source)]
        result = _run(command, cwd=source, timeout=BUILD_TIMEOUT)
        if result.returncode != 0:
            raise PublishError(f"building {source} failed: {_tail(result.stdout + result.stderr)}",
                               hint=f"run `{' '.join(command[:-1])} {source}` to see the whole log")
        built = sorted(Path(tmp).iterdir())
        stem = re.sub(r"[-_.]+", "_", name).lower()
        sdists = [p for p in built if p.name.lower().startswith(stem) and p.name.endswith(".tar.gz")]
        wheels = [p for p in built if p.name.lower().startswith(stem) and p.suffix == ".whl"]
        if len(sdists) != 1 or len(wheels) != 1:
            raise PublishError(f"building {source} gave {[p.name for p in built]}, not one sdist and one wheel of "
                               f"{name}")
        final = []
        for path in (sdists[0], wheels[0]):
            os.replace(path, out / path.name)
            final.append(out / path.name)
    return final[0], final[1]


def _check_wheel(wheel: Path, expected: dict[str, str], fingerprint: str) -> tuple[list[str], str]:
    """Every expected file is in the wheel; its metadata has a license and an xlsdk range; the head in use
    records the installed core latent's fingerprint. Returns the files found and the wheel's version."""
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        missing = sorted(f"{path} ({what})" for path, what in expected.items() if path not in names)
        if missing:
            raise PublishError(f"{wheel.name} lacks {', '.join(missing)}",
                               hint="add their file patterns to [tool.setuptools.package-data] in pyproject.toml")
        metadata_name = next((n for n in names if n.endswith(".dist-info/METADATA")), None)
        if metadata_name is None:
            raise PublishError(f"{wheel.name}: no METADATA (not a wheel)")
        metadata = email.parser.Parser().parsestr(archive.read(metadata_name).decode("utf-8"))
        if not (metadata.get("License-Expression") or metadata.get("License") or metadata.get_all("License-File")):
            raise PublishError(f"{wheel.name}: its metadata carries no license",
                               hint='add license = "Apache-2.0" (or yours) under [project] in pyproject.toml')
        if not any(re.match(r"^xlsdk\b\s*[<>=!~]", r) for r in metadata.get_all("Requires-Dist") or []):
            raise PublishError(f"{wheel.name}: its metadata has no xlsdk version range in Requires-Dist")
        heads = [n for n in expected if expected[n] == "head" and n.endswith(".json")]
        recorded = {json.loads(archive.read(n))["latent_fingerprint"] for n in heads}
    if fingerprint not in recorded:
        raise PublishError(f"{wheel.name}: no head in it was fitted against the installed core latent {fingerprint[:12]}")
    return sorted(expected), str(metadata.get("Version", ""))


# --- the clean environment --------------------------------------------------------------------------


def _check_in_clean_venv(hand: Hand, dist: Distribution | None, wheel: Path, work: Path) -> tuple[str, str]:
    """Install ``wheel`` into a fresh venv over this environment's packages, minus the plugin; check it there."""
    venv = work / "venv"
    result = _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=work, timeout=BUILD_TIMEOUT)
    if result.returncode != 0:
        raise PublishError(f"creating a virtual environment in {venv} failed: {_tail(result.stderr)}")
    python = venv / "bin" / "python"
    site = Path(sysconfig.get_path("purelib", vars={"base": str(venv), "platbase": str(venv)}))
    _link_core_packages(site, dist)
    installed = _run([str(python), "-m", "pip", "install", "--no-deps", "--no-index", "--quiet",
                      "--disable-pip-version-check", str(wheel)], cwd=work, timeout=BUILD_TIMEOUT)
    if installed.returncode != 0:
        raise PublishError(f"installing {wheel.name} into a clean environment failed: "
                           f"{_tail(installed.stdout + installed.stderr)}")
    where = _run([str(python), "-c", _WHERE_IS_THE_HAND, hand.name], cwd=work, timeout=CHECK_TIMEOUT)
    if where.returncode != 0:
        raise PublishError(f"the clean environment cannot load {hand.name} from {wheel.name}: {_tail(where.stderr)}")
    manifest = Path(json.loads(where.stdout.strip().splitlines()[-1])["manifest"])
    if not manifest.resolve().is_relative_to(venv.resolve()):
        raise PublishError(f"the clean environment loaded {hand.name} from {manifest}, not from the installed wheel "
                           f"(inside {venv}): the source tree leaks into it")
    check = _run([str(python), "-m", "xlsdk", "check", hand.name], cwd=work, timeout=CHECK_TIMEOUT)
    output = (check.stdout + check.stderr).strip()
    if check.returncode != 0:
        raise PublishError(f"`xlsdk check {hand.name}` fails when installed from {wheel.name}: {_tail(output, 12)}",
                           hint="fix what the check names, then publish again")
    return str(manifest), output


# prints where the clean environment finds the hand and its package (one JSON line)
_WHERE_IS_THE_HAND = """
import json, sys, xlsdk
hand = xlsdk.load_hand(sys.argv[1])
print(json.dumps({"manifest": str(hand.spec.manifest_path)}))
"""


def _link_core_packages(site: Path, dist: Distribution | None) -> None:
    """Link every entry of this environment's site-packages into ``site``, except the plugin's own files.

    The clean environment reuses the core and its dependencies as they are installed here (no network,
    no second copy of torch), while the plugin is importable there only from the wheel: its editable
    hook (``__editable__*.pth`` and finder), its ``.dist-info`` and the shared ``__pycache__`` stay out.
    """
    files = (dist.files or []) if dist is not None else []
    own = {Path(str(f)).parts[0] for f in files if Path(str(f)).parts and Path(str(f)).parts[0] != ".."}
    own.add("__pycache__")
    stem = re.sub(r"[-_.]+", "_", dist.metadata["Name"]).lower() if dist is not None else "\0"
    site.mkdir(parents=True, exist_ok=True)
    here = {Path(p) for p in (sysconfig.get_path("purelib"), sysconfig.get_path("platlib"))}
    for directory in sorted(here):
        for entry in directory.iterdir():
            if entry.name in own or entry.name.lower().startswith(f"{stem}-") or (site / entry.name).exists():
                continue
            (site / entry.name).symlink_to(entry)


# --- small helpers ----------------------------------------------------------------------------------


def _run(command: list[str], *, cwd: Path, timeout: int) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    try:
        return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise PublishError(f"`{' '.join(command)}` took longer than {timeout} s") from None


def _tail(text: str, lines: int = 6) -> str:
    kept = [line for line in text.strip().splitlines() if line.strip()][-lines:]
    return " | ".join(kept) if kept else "(no output)"


def _shell_path(path: Path) -> str:
    cwd = Path.cwd()
    shown = path.relative_to(cwd) if path.is_relative_to(cwd) else path
    text = str(shown)
    return text if re.fullmatch(r"[\w./+-]+", text) else "'" + text.replace("'", "'\\''") + "'"

