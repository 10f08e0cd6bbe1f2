"""``xlsdk new-hand``: scaffold a complete, installable hand plugin from a vendor's URDF.

The URDF is validated (every problem reported at once), the manifest is proposed from it
(:mod:`xlsdk.manifest_proposal`), the copier template ``templates/hand-plugin`` is rendered, the URDF (and
the meshes it references that resolve inside the model's own folder tree) are copied into the package,
and ``hand.toml`` is written with a comment on every proposal. Everything is built in a temporary
directory next to the destination and renamed into place at the end: a failure leaves nothing behind.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from xlsdk.errors import ManifestError, NewHandError, UrdfError
from xlsdk.files import staging_dir
from xlsdk.hand_spec import HandSpec, resolve_hand_spec
from xlsdk.latent.side import SideComparison
from xlsdk.manifest import CANONICAL_FINGERS, parse_manifest
from xlsdk.robot_description import RobotDescription, load_robot_description
from xlsdk.urdf import UrdfModel
from xlsdk.manifest_proposal import ChainProposal, ManifestProposal, propose_manifest

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")


class NewHandResult(BaseModel):
    model_config = ConfigDict(frozen=True)
    name: str
    directory: Path
    package: str
    manifest: Path
    urdf: Path
    warnings: tuple[str, ...]
    proposal: ManifestProposal
    notes: tuple[str, ...] = ()  # what the proposal decided and why (skipped arm joints, names vs geometry, ...)
    source_note: str = ""  # how the URDF was obtained from a xacro/MJCF input
    side: SideComparison | None = None  # the proposed side against its mirror image (None: not compared)


def template_dir() -> Path:
    """The hand-plugin template: the repository's templates/ (source checkouts, editable installs)."""
    candidates = [Path(__file__).resolve().parents[1] / "templates" / "hand-plugin",
                  Path(__file__).resolve().parent / "templates" / "hand-plugin"]
    for candidate in candidates:
        if (candidate / "copier.yml").is_file():
            return candidate
    raise NewHandError("the hand-plugin template was not found next to the xlsdk package",
                     hint="give the path of a checkout of templates/hand-plugin as the template")


Chooser = Callable[[ManifestProposal, UrdfModel], ManifestProposal]


def create_hand_plugin(name: str, urdf_path: Path, out: Path | None = None, *, vendor: str = "", title: str = "",
                       version: str = "0.1.0", template: Path | None = None,
                       choose: Chooser | None = None) -> NewHandResult:
    """Render a plugin for ``urdf_path`` into ``out`` (default ``./xlsdk-<name>``); ``choose`` may edit proposals."""
    check_new_hand_name(name)
    for field, value in (("vendor", vendor), ("title", title), ("version", version)):
        if any(not character.isprintable() for character in value):
            raise NewHandError(f"{field} {value!r} contains control characters (a newline?); give it on one line")
    destination = Path(out) if out is not None else Path.cwd() / f"xlsdk-{name.replace('_', '-')}"
    _check_destination(destination)  # before the URDF is read or a question is asked
    urdf_path = Path(urdf_path)
    description, model = load_robot_description(urdf_path)  # URDF, .xacro or MJCF .xml
    proposal = propose_manifest(model)
    if choose is not None:
        proposal = choose(proposal, model)
    package = f"xlsdk_{name}"
    urdf_file = f"{name}.urdf"
    manifest_text = render_manifest(name, proposal, model, urdf_file=urdf_file, title=title or f"{name} hand",
                                    vendor=vendor, version=version, source=description)
    # fail before writing anything if the proposal does not make a valid manifest; the file at fault is the
    # vendor's (the manifest does not exist yet), so the error names it
    try:
        manifest = parse_manifest(manifest_text, f"{package}/hand.toml")
        spec = resolve_hand_spec(manifest, urdf_path.parent / "hand.toml", model)
    except ManifestError as exc:
        raise UrdfError(urdf_path, [f"{problem} (in the manifest new-hand proposes from this file: fix the file, or "
                                    "answer the prompts without --yes)" for problem in exc.problems]) from None
    side, side_warning = compare_proposed_side(spec)
    if side is not None:  # the comparison goes into hand.toml's comment on `handedness`
        proposal = proposal.model_copy(update={
            "handedness_source": f"{proposal.handedness_source}; mirror check: {side.verdict()}",
            "warnings": proposal.warnings + ((side_warning,) if side_warning else ())})
        manifest_text = render_manifest(name, proposal, model, urdf_file=urdf_file, title=title or f"{name} hand",
                                        vendor=vendor, version=version, source=description)
    mesh_copies, meshes_left_out = _plan_mesh_copies(model, urdf_path)

    import copier

    try:  # a read-only folder (or working directory, without --out) is the user's to fix, not a traceback
        destination.parent.mkdir(parents=True, exist_ok=True)
        staging = staging_dir(destination)  # short name (a 250-character OUT is legal); stale ones removed
    except OSError as exc:
        raise NewHandError(f"{destination} cannot be created ({exc.strerror}); choose an output directory you can "
                           "write to; nothing was written") from None
    try:
        copier.run_copy(str(template or template_dir()), str(staging), defaults=True, quiet=True, data={
            "hand_name": name, "title": title or f"{name} hand", "vendor": vendor, "version": version,
            "urdf_file": urdf_file,
        })
        urdf_dir = staging / package / "urdf"
        urdf_dir.mkdir(parents=True, exist_ok=True)
        if description.kind == "urdf":
            shutil.copyfile(urdf_path, urdf_dir / urdf_file)
        else:  # the expanded/converted URDF is what the plugin ships
            (urdf_dir / urdf_file).write_text(description.text, encoding="utf-8")
        for source, relative in mesh_copies:
            (urdf_dir / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, urdf_dir / relative)
        (staging / package / "hand.toml").write_text(manifest_text, encoding="utf-8")
        umask = os.umask(0)
        os.umask(umask)
        staging.chmod(0o777 & ~umask)  # mkdtemp makes 0700; the plugin gets ordinary directory permissions
        try:
            if destination.exists():
                destination.rmdir()
            staging.rename(destination)
        except OSError as exc:  # another run (or anyone) filled or created it while this one was writing
            raise NewHandError(f"{destination} could not be put in place ({exc.strerror}): something else created it "
                               "while the plugin was being written (a second new-hand run?); nothing was written") from None
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return NewHandResult(name=name, directory=destination, package=package,
                         manifest=destination / package / "hand.toml", urdf=destination / package / "urdf" / urdf_file,
                         warnings=model.warnings + proposal.warnings + tuple(meshes_left_out), proposal=proposal,
                         notes=description.conversion_notes + proposal.notes, source_note=description.note,
                         side=side)


#: names a new hand may not take, and why: they mean something else to xlsdk already
RESERVED_HAND_NAMES = {
    "canonical": "the core latent's reference hand",
    "sim": "the simulated driver every hand has",
    "xlsdk": "the SDK itself",
}


def check_new_hand_name(name: str) -> None:
    """Refuse a name that is malformed, reserved, or already taken by an installed hand or package."""
    import importlib.util

    from xlsdk.plugins import get_plugin_host

    if not NAME_PATTERN.fullmatch(name) or len(name) > 40:
        raise NewHandError(f"hand name {name!r} must be lowercase letters, digits and underscores, starting with a "
                         "letter (at most 40 characters)")
    if name in RESERVED_HAND_NAMES:
        raise NewHandError(f"hand name {name!r} is reserved ({RESERVED_HAND_NAMES[name]}); choose another name")
    installed = {record.name for record in get_plugin_host().hand_records(include_core=True)}
    if name in installed:
        raise NewHandError(f"hand name {name!r} is taken: an installed plugin already provides hand {name!r}; a second "
                         "plugin with that name would conflict with it, so choose another name")
    package = f"xlsdk_{name}"
    if importlib.util.find_spec(package) is not None:
        raise NewHandError(f"hand name {name!r} is taken: a Python package {package!r} is already installed; choose "
                         "another name")


#: the mirror check new-hand runs: a few hundred canonical poses, the naive start only (0.4-4 s per hand
#: once torch is loaded). On 14 import-corpus hands its floors are within 0.02 of `xlsdk check`'s (256
#: poses, 25 steps, a random start too) and its mirror ratios within 4 %
SIDE_CHECK_POSES = 192
SIDE_CHECK_STEPS = 15


def compare_proposed_side(spec: HandSpec) -> tuple[SideComparison | None, str]:
    """The proposed hand against its mirror image (:mod:`xlsdk.latent.side`), and a warning when the mirror
    reaches the canonical hand clearly better (``xlsdk check`` would then fail its ``handedness`` check)."""
    from xlsdk.plugins import get_plugin_host
    from xlsdk.errors import XlsdkError
    from xlsdk.hand import Hand
    from xlsdk.latent.side import MIRROR_SETUPS, compare_sides, reference_hand_name

    try:
        side = compare_sides(Hand(spec), get_plugin_host().load_hand(reference_hand_name()), setups=MIRROR_SETUPS,
                             n=SIDE_CHECK_POSES, steps=SIDE_CHECK_STEPS, random_starts=0)
    except XlsdkError as exc:  # the plugin is still worth writing; `xlsdk check` will say what is wrong
        return None, f"the mirror check did not run ({exc}); `xlsdk check` runs it again"
    if not side.wrong:
        return side, ""
    return side, (f"handedness: {side.verdict()}; the thumb, the fingertips or the palm frame are probably "
                  f"proposed wrong: check them (`xlsdk view`), set {side.fix()} if that is the hand's side, and "
                  "`xlsdk check` will confirm")


def _check_destination(destination: Path) -> None:
    """The plugin goes into a new or empty directory, never over a file or into a populated one."""
    if destination.is_symlink():  # dangling or not: the plugin is renamed into place, never through a link
        target = os.readlink(destination)
        what = "a symlink to nothing" if not destination.exists() else "a symlink"
        raise NewHandError(f"{destination} is {what} ({target}); give a plain directory path as --out; nothing was "
                           "written")
    ancestor = destination
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if ancestor.exists() and not ancestor.is_dir():
        what = "is a file" if ancestor == destination else f"cannot be created: {ancestor} is a file"
        raise NewHandError(f"{destination} {what}; the plugin needs a new (or empty) directory; nothing was written")
    if destination.is_dir() and any(destination.iterdir()):
        raise NewHandError(f"{destination} already exists and is not empty; choose another output directory; nothing "
                         "was written")


def _plan_mesh_copies(model: UrdfModel, urdf_path: Path) -> tuple[list[tuple[Path, Path]], list[str]]:
    """Which mesh files go into the plugin (source, path under ``urdf/``), and warnings for those that do not.

    Relative paths keep their place; ``package://PKG/rest`` meshes go to ``urdf/PKG/rest``, where the
    plugin's URDF resolves them again (a folder named PKG under one of its ancestors). A plugin is meant
    to be published, so only files inside the model's own folder tree are copied: the URDF's folder, or
    for ``package://PKG/...`` the URDF's own package folder (an ancestor named PKG). The check is on the
    real path, so a ``meshes/tip.stl`` that is a symlink to a file elsewhere is left out, with a warning.
    """
    copies: list[tuple[Path, Path]] = []
    outside: list[str] = []
    for link in model.links:
        for shape in link.geometry:
            if shape.kind != "mesh" or not shape.filename:
                continue
            if shape.filename.startswith("package://"):
                relative = Path(shape.filename[len("package://"):])
                source = model.resolve_mesh(shape.filename)
                roots = [a for a in Path(os.path.realpath(urdf_path)).parents if relative.parts[:1] == (a.name,)]
                root = roots[0] if roots else Path(os.path.realpath(urdf_path.parent))
            elif "://" in shape.filename:
                continue
            else:
                relative = Path(shape.filename)
                source = urdf_path.parent / relative
                root = Path(os.path.realpath(urdf_path.parent))
            if (source is None or relative.is_absolute() or ".." in relative.parts or not relative.parts
                    or not source.is_file()):
                continue
            real = Path(os.path.realpath(source))
            if root not in real.parents:
                outside.append(f"link {link.name!r}: mesh {shape.filename!r} resolves outside {root} (a symlink or "
                               "a folder above the model's); not copied into the plugin: put the file itself in the "
                               "model's folder")
                continue
            copies.append((real, relative))
    return copies, list(dict.fromkeys(outside))


def _toml_list(values: tuple[float, ...] | list[float]) -> str:
    return "[" + ", ".join(f"{float(v):.10g}" for v in values) + "]"


def toml_string(value: str) -> str:
    """``value`` as a TOML basic string: quotes, backslashes and control characters escaped.

    Vendor names (``C:\\hands``), titles and URDF joint/link names are arbitrary text; written raw they
    would give the user a TOML error about a file they never wrote.
    """
    escapes = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}
    out = []
    for character in value:
        if character in escapes:
            out.append(escapes[character])
        elif ord(character) < 0x20 or ord(character) == 0x7F:
            out.append(f"\\u{ord(character):04X}")
        else:
            out.append(character)
    return '"' + "".join(out) + '"'


def _comment(text: str) -> str:
    """Text safe inside a TOML comment (a name with a newline would otherwise end the comment)."""
    return "".join(character if character.isprintable() else "?" for character in text)


def render_manifest(name: str, proposal: ManifestProposal, model: UrdfModel, *, urdf_file: str, title: str,
                    vendor: str, version: str, source: RobotDescription | None = None) -> str:
    """``hand.toml`` text for the proposal, with a comment saying where each value came from."""
    lines = [
        f"# xlsdk hand manifest (schema 1), proposed by `xlsdk new-hand` from {_comment(model.path.name)}.",
        "# Review every value: the proposals come from the URDF's names, tree and zero pose.",
    ]
    if source is not None and source.note:
        lines.append(f"# urdf/{_comment(urdf_file)} was {_comment(source.note)}.")
    lines += [f"# note: {_comment(note)}" for note in proposal.notes]
    lines += [f"# warning: {_comment(warning)}" for warning in proposal.warnings]
    lines += [
        "schema = 1",
        f"name = {toml_string(name)}",
        f"version = {toml_string(version)}",
        f"title = {toml_string(title)}",
        f"vendor = {toml_string(vendor)}",
        f"urdf = {toml_string('urdf/' + urdf_file)}",
        "# the first link where several finger chains start",
        f"palm_link = {toml_string(proposal.palm_link)}",
        "# actuated joints in command order (URDF order): the order drivers and datasets use",
    ]
    if proposal.mimic_joints:
        lines.append(f"# derived through <mimic>, not commanded: {_comment(', '.join(proposal.mimic_joints))}")
    lines += ["joints = [" + ", ".join(toml_string(j) for j in proposal.joints) + "]", 'drivers = ["sim"]']
    lines += [f"# {_comment(proposal.handedness_source)}" if proposal.handedness_source else "# which hand this is",
              f"handedness = {toml_string(proposal.handedness)}", ""]
    if any(abs(v) > 1e-9 for v in proposal.palm_rpy):
        lines += [
            "# The palm link's axes differ from the xlsdk palm frame (+Z wrist -> fingertips, +Y palm normal,",
            "# +X toward the little finger). This rotation (the xlsdk frame in the palm link) converts them.",
            "[palm_frame]",
            f"rpy = {_toml_list(proposal.palm_rpy)}",
            "",
        ]
    for joint, (lower, upper) in proposal.limits.items():
        lines += [f"# {_comment(joint)} is continuous in the URDF: narrow this to its real range",
                  f"[limits.{toml_string(joint)}]", f"lower = {lower:.10g}", f"upper = {upper:.10g}", ""]
    for chain in proposal.chains:
        lines += [_finger_comment(chain), f"[fingers.{chain.finger}]", f"link = {toml_string(chain.tip_link)}",
                  f"offset = {_toml_list(chain.offset)}  # {_comment(chain.offset_source)}", ""]
    return "\n".join(lines)


def _finger_comment(chain: ChainProposal) -> str:
    reason = chain.reason or ("the chain pointing most against the others" if chain.finger == "thumb" else
                              "ordered across the palm from the thumb's side")
    return f"# {chain.finger}: {_comment(' -> '.join(chain.joints))} ({reason})"


def interactive_chooser(ask: Callable[[str, str], str], confirm: Callable[[str], bool]) -> Chooser:
    """A chooser that asks for each proposal (the CLI passes typer.prompt/typer.confirm)."""

    def choose(proposal: ManifestProposal, model: UrdfModel) -> ManifestProposal:
        palm = ask("Palm link", proposal.palm_link)
        if palm != proposal.palm_link:
            if palm not in model.link_names():
                raise NewHandError(f"link {palm!r} is not in {model.path.name}")
            proposal = propose_manifest(model, palm)
        chains = []
        taken: set[str] = set()
        for chain in proposal.chains:
            answer = ask(f"Canonical finger of the chain ending at {chain.tip_link!r} "
                         f"({'/'.join(CANONICAL_FINGERS)}/skip)", chain.finger)
            if answer == "skip":
                continue
            if answer not in CANONICAL_FINGERS or answer in taken:
                raise NewHandError(f"{answer!r} is not a free canonical finger ({', '.join(CANONICAL_FINGERS)})")
            taken.add(answer)
            proposed = " ".join(f"{v:.6g}" for v in chain.offset)
            offset_text = ask(f"Tip offset in {chain.tip_link} (x y z, metres)", proposed)
            if offset_text.split() == proposed.split():  # kept: the exact proposal, not its rounded display
                chains.append(chain.model_copy(update={"finger": answer,
                                                       "offset_source": f"confirmed: {chain.offset_source}"}))
                continue
            try:
                offset = tuple(float(v) for v in offset_text.split())
            except ValueError:
                raise NewHandError(f"tip offset {offset_text!r} is not three numbers") from None
            if len(offset) != 3:
                raise NewHandError(f"tip offset {offset_text!r} is not three numbers")
            chains.append(chain.model_copy(update={"finger": answer, "offset": offset, "offset_source": "edited"}))
        order = {f: i for i, f in enumerate(CANONICAL_FINGERS)}
        chains.sort(key=lambda c: order[c.finger])
        if not confirm("Write the plugin with these choices?"):
            raise NewHandError("cancelled; nothing was written")
        return proposal.model_copy(update={"chains": tuple(chains)})

    return choose
