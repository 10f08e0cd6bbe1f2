"""One benchmark report from two runs of the same protocol that measured different arms.

A change that only some action spaces read (a hand's latent head is read by ``latent`` and ``act-latent``,
never by ``raw`` or ``slots``) changes only those arms' results: the run is deterministic (the same
datasets, seeds, scenes and training), so the other arms would come out of a full rerun as they are. A
rerun of the changed arms (``xlsdk bench physics --arms latent,act-latent``, reusing the datasets through
the same ``--out``) merged into the last full report gives the full report for a third less CPU.

The merge refuses two runs of different protocols: their configs must agree but for the arms and the
worker count, and the expert must have done the same to the episode in both: its success on every
evaluation and training scene, its demonstrations, DART levels and grasp points. The expert shares every
scene, physics step and dataset with the arms, so a changed scene, expert or dataset shows there, and a
merged report is never two protocols under one table. Each run's command, arms and time stay in the
merged report (``parts``).
"""

from __future__ import annotations

from pathlib import Path

from xlsdk.bench.physics.benchmark import PhysicsBenchReport, ReportPart, write_report
from xlsdk.bench.physics.policies import ARMS
from xlsdk.errors import DataFormatError
from xlsdk.files import write_bytes_atomic

#: config fields two runs of one protocol may differ in
_FREE = {"arms", "workers"}


def parts_of(report: PhysicsBenchReport) -> list[ReportPart]:
    """The runs ``report`` was measured in (itself, unless it was merged)."""
    return list(report.parts) or [ReportPart(command=report.command, arms=list(report.config.arms),
                                             seconds=report.seconds, cpu_seconds=report.cpu_seconds.get("total"))]


def _same_protocol(base: PhysicsBenchReport, rerun: PhysicsBenchReport) -> None:
    """Raise naming the first thing the two runs did differently (beyond which arms they measured)."""
    hint = "merge only a rerun of some arms on the same tree, options and datasets as the report it joins"
    a, b = base.config.model_dump(exclude=_FREE), rerun.config.model_dump(exclude=_FREE)
    for field in a:
        if a[field] != b[field]:
            raise DataFormatError(f"the reports' configs differ in {field!r}: {a[field]!r} against {b[field]!r}",
                                  hint=hint)
    # cell by cell first: a changed expert cell is named, not shown as a changed split total
    cells = [(c.hand, c.task) for c in base.combos]
    if cells != [(c.hand, c.task) for c in rerun.combos]:
        raise DataFormatError("the reports hold different hand x task combinations", hint=hint)
    for mine, theirs in zip(base.combos, rerun.combos, strict=True):
        for field in ("split", "note", "expert_success", "expert_training_success"):
            if getattr(mine, field) != getattr(theirs, field):
                raise DataFormatError(f"{mine.hand} x {mine.task}: the reports differ in {field}: "
                                      f"{getattr(mine, field)!r} against {getattr(theirs, field)!r} (the expert "
                                      "did not do the same on the same scenes)", hint=hint)
    checks = [("expert_summary", base.expert_summary, rerun.expert_summary),
              ("infeasible", base.infeasible, rerun.infeasible),
              ("demonstrations", base.demonstrations, rerun.demonstrations),
              ("dart_levels", base.dart_levels, rerun.dart_levels),
              ("grasp_points", base.grasp_points, rerun.grasp_points),
              ("train_frames", base.train_frames, rerun.train_frames),
              ("raw_width", base.raw_width, rerun.raw_width)]
    for name, mine, theirs in checks:
        if mine != theirs:
            raise DataFormatError(f"the reports differ in {name}: {mine!r} against {theirs!r}", hint=hint)


def merge_reports(base: PhysicsBenchReport, rerun: PhysicsBenchReport) -> PhysicsBenchReport:
    """``base`` with ``rerun``'s arms replaced or added (see the module docstring); the expert's strips and the
    CPU breakdown are the rerun's, ``parts`` says which run measured which arm."""
    _same_protocol(base, rerun)
    new = list(rerun.config.arms)
    arms = [arm for arm in ARMS if arm in base.config.arms or arm in new]

    def pick(mine: dict, theirs: dict) -> dict:
        """Per arm, the entry of the run that measured it (an arm absent from that run's dict stays absent)."""
        sources = {arm: theirs if arm in new else mine for arm in arms}
        return {arm: source[arm] for arm, source in sources.items() if arm in source}

    combos = [mine.model_copy(update={"success": pick(mine.success, theirs.success),
                                      "training_success": pick(mine.training_success, theirs.training_success)})
              for mine, theirs in zip(base.combos, rerun.combos, strict=True)]
    strips = {key: path for key, path in base.strips.items() if key.rsplit("/", 1)[-1] not in (*new, "expert")}
    strips |= rerun.strips
    kept = [part.model_copy(update={"arms": [a for a in part.arms if a not in new]}) for part in parts_of(base)]
    return base.model_copy(update={
        "config": base.config.model_copy(update={"arms": tuple(arms)}),
        "summary": pick(base.summary, rerun.summary), "combos": combos,
        "learning_curves": pick(base.learning_curves, rerun.learning_curves),
        "chosen_checkpoints": pick(base.chosen_checkpoints, rerun.chosen_checkpoints),
        "final_loss": pick(base.final_loss, rerun.final_loss), "latency_ms": pick(base.latency_ms, rerun.latency_ms),
        "seconds": rerun.seconds, "cpu_seconds": rerun.cpu_seconds, "strips": dict(sorted(strips.items())),
        "parts": [part for part in kept if part.arms] + parts_of(rerun)})


def merge_report_files(base_json: Path, rerun_json: Path, out_dir: Path) -> Path:
    """Merge two ``physics.json`` files into ``out_dir`` (its own report files and every strip they name, each
    copied from the run that made it); returns the merged ``physics.json``."""
    def read(path: Path) -> PhysicsBenchReport:
        try:
            return PhysicsBenchReport.model_validate_json(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise DataFormatError(f"{path}: not a physics benchmark report ({error})",
                                  hint="pass the physics.json an `xlsdk bench physics` run wrote") from error

    base, rerun = read(base_json), read(rerun_json)
    merged = merge_reports(base, rerun)
    sources = {key: (rerun_json if key in rerun.strips else base_json).parent / relative
               for key, relative in merged.strips.items()}
    for key, source in sources.items():  # all of them before anything is written
        if not source.is_file():
            raise DataFormatError(f"{source}: the episode strip {key!r} the report names is missing",
                                  hint="keep each run's strips/ folder beside its physics.json")
    for key, source in sources.items():
        target = out_dir / merged.strips[key]
        if source.resolve() != target.resolve():
            target.parent.mkdir(parents=True, exist_ok=True)
            write_bytes_atomic(target, source.read_bytes())
    return write_report(merged, out_dir)
