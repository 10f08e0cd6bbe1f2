"""``xlsdk hands`` and ``xlsdk info HAND`` answered from the answer cache before typer parses anything.

Why before typer: typer coerces every parameter through a pydantic ``TypeAdapter``, so merely dispatching
``xlsdk hands --json`` imports pydantic's model machinery, about as long again as the whole peer
``import pydantic, tomllib`` (docs/benchmarks/startup.md). A stored answer needs none of it.

Only the plain spellings are recognised (``hands`` with any of ``--json``/``--all`` once each;
``info HAND`` with or without ``--json``); anything else (``--help``, a typo, an option twice) and
every cache miss go to typer, which parses, computes, stores and prints through the same printers
(:func:`~xlsdk.cli.hands.print_hands`, :func:`~xlsdk.cli.info.print_info`), so the output is the same
either way.
"""

from __future__ import annotations

from xlsdk.cli.answer_cache import stored_answer


def print_stored_answer(argv: list[str]) -> bool:
    """Print the stored answer to ``argv`` and return True; False (nothing printed) when typer must run."""
    if argv[:1] == ["hands"]:
        flags = argv[1:]
        if len(set(flags)) != len(flags) or not set(flags) <= {"--json", "--all"}:
            return False
        from xlsdk.cli.hands import hands_options, print_hands

        json_output = "--json" in flags
        answer = stored_answer("hands", hands_options(json_output=json_output, include_core="--all" in flags))
        if answer is not None:
            print_hands(answer, json_output=json_output)
        return answer is not None
    if argv[:1] == ["info"]:
        rest = argv[1:]
        json_output = "--json" in rest
        names = [arg for arg in rest if arg != "--json"]
        if len(rest) - len(names) > 1 or len(names) != 1 or names[0].startswith("-"):
            return False
        from xlsdk.cli.info import info_options, print_info

        answer = stored_answer("info", info_options(names[0], json_output=json_output))
        if answer is not None:
            print_info(answer, json_output=json_output)
        return answer is not None
    return False
