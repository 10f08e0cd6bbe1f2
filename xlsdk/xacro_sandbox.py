"""Expand a vendor's ``.xacro`` file without letting it run code or read anything outside its own folder.

A xacro file from a hand vendor is untrusted input, and the URDF it expands to is published inside a
plugin. The ``xacro`` package is built for files one wrote oneself: ``${...}`` goes to Python's ``eval``
(it only refuses names starting with ``__``, and generator frames walk around that to any module's
globals), ``$(env ...)``/``$(optenv ...)`` copy the environment into the output, ``$(eval ...)`` is a
second ``eval``, ``xacro.load_yaml`` reads any file, and ``<xacro:include>`` takes any path. So xacro
keeps its XML machinery here (macros, properties, blocks, conditionals, ``xacro:element``/``attribute``,
includes) while, for the length of one expansion, each place where it would evaluate or reach outside is
replaced by a bounded, closed version:

* ``${...}`` is parsed with :mod:`ast` and evaluated by a small interpreter that knows numbers, strings,
  booleans, property names, arithmetic, comparisons, ``and``/``or``/``not``, ``a if c else b`` and a
  fixed table of math functions and constants (``pi``, ``sin``, ``radians``, ``math.cos``, ...). Nothing
  else reaches a Python object: no attributes, subscripts, comprehensions, lambdas or other calls.
  Results are bounded (integers to 1100 bits, strings to 10,000 characters, checked before a power or a
  repetition is computed), so ``10**10**10`` or ``'a' * 10**12`` is refused at once instead of hanging.
* ``$(...)`` resolves ``$(arg NAME)`` only (from ``<xacro:arg default=...>``); ``env``, ``optenv``,
  ``find``, ``eval``, ``cwd``, ``dirname`` and the rest are refused with the reason.
* Every file opened (the top file and its includes) must lie, after following symlinks, inside the top
  file's folder tree; a file declaring XML entities (``<!ENTITY``) is refused.
* One expansion evaluates at most :data:`MAX_ELEMENTS` elements in at most :data:`MAX_SECONDS`, so an
  exponential macro bomb stops with an error.

xacro's module-level state is patched only while :data:`_LOCK` is held and restored afterwards; if the
installed xacro lacks one of the functions replaced here, expansion is refused rather than run unguarded.
"""

from __future__ import annotations

import ast
import contextlib
import glob
import io
import math
import operator
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from xlsdk.errors import UrdfError

#: bounds of one expansion: elements evaluated, wall-clock seconds
MAX_ELEMENTS = 20_000
MAX_SECONDS = 10.0
#: bounds of one value inside ``${...}``
MAX_INT_BITS = 1100
MAX_STRING = 10_000
MAX_EXPRESSION = 10_000
MAX_FILE_BYTES = 32 * 1024 * 1024

_LOCK = threading.Lock()
_PATCHED = ("safe_eval", "eval_extension", "get_include_files", "parse", "eval_all")

_MATH_FUNCTIONS: dict[str, Callable[..., Any]] = {
    name: getattr(math, name) for name in (
        "sin", "cos", "tan", "asin", "acos", "atan", "atan2", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh",
        "sqrt", "exp", "log", "log10", "log2", "pow", "fabs", "floor", "ceil", "trunc", "hypot", "copysign", "fmod",
        "radians", "degrees", "isclose", "isfinite", "isnan", "isinf")
}
_MATH_CONSTANTS = {"pi": math.pi, "e": math.e, "tau": math.tau, "inf": math.inf, "nan": math.nan}


def _round(value: float, digits: int = 0) -> float:
    if not isinstance(digits, int) or abs(digits) > 30:
        raise _Refused(f"calls round() with {digits!r} digits (at most 30)")
    return round(value, digits) if digits else round(value)


_FUNCTIONS: dict[str, Callable[..., Any]] = {
    **_MATH_FUNCTIONS, "abs": abs, "min": min, "max": max, "round": _round, "int": int, "float": float,
    "str": str, "bool": bool, "len": len,
}
_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
           ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow}
_COMPARE = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
            ast.Gt: operator.gt, ast.GtE: operator.ge, ast.In: lambda a, b: a in b,
            ast.NotIn: lambda a, b: a not in b}
_ALLOWED = ("numbers, strings, True/False, property names, + - * / // % **, comparisons, and/or/not, "
            "'a if c else b', and math functions and constants such as pi, sin, cos, atan2, sqrt, radians")


class _Refused(Exception):
    """A ``${...}``, ``$(...)`` or include the sandbox will not evaluate (the message says why)."""


class _Function:
    """A whitelisted function, as the value of a name in call position."""

    def __init__(self, name: str) -> None:
        self.name = name


Value = bool | int | float | str


class ExpressionEvaluator:
    """Evaluates one ``${...}`` expression over a xacro symbol table, refusing anything but arithmetic."""

    def __init__(self, symbols: Any) -> None:
        self.symbols = symbols

    def evaluate(self, expression: str) -> Value:
        if len(expression) > MAX_EXPRESSION:
            raise _Refused(f"is {len(expression)} characters long (at most {MAX_EXPRESSION})")
        try:
            tree = ast.parse(expression.strip(), mode="eval")
        except (SyntaxError, ValueError, MemoryError, RecursionError) as exc:
            raise _Refused(f"is not a valid expression ({type(exc).__name__}: {exc})") from None
        try:
            return self._value(tree.body)
        except RecursionError:
            raise _Refused("nests too deeply") from None
        except (ArithmeticError, ValueError, TypeError) as exc:  # '1 < "a"', 1 / 0, math.log(-1), ...
            raise _Refused(f"fails: {type(exc).__name__}: {exc}") from None

    def _value(self, node: ast.AST) -> Value:
        result = self._node(node)
        if isinstance(result, _Function):
            raise _Refused(f"uses the function {result.name!r} without calling it")
        return result

    def _node(self, node: ast.AST) -> Value | _Function:  # noqa: PLR0911 - one branch per allowed syntax
        if isinstance(node, ast.Constant):
            if isinstance(node.value, (bool, int, float, str)):
                return _bounded(node.value)
            raise _Refused(f"holds the literal {node.value!r}, which is not a number or string")
        if isinstance(node, ast.Name):
            return self._name(node.id)
        if isinstance(node, ast.Attribute):
            if isinstance(node.value, ast.Name) and self._is_property(node.value.id):
                return self._namespace_property(node.value.id, node.attr)
            if isinstance(node.value, ast.Name) and node.value.id == "math":
                if node.attr in _FUNCTIONS and node.attr in _MATH_FUNCTIONS:
                    return _Function(node.attr)
                if node.attr in _MATH_CONSTANTS:
                    return _MATH_CONSTANTS[node.attr]
            raise _Refused(f"reads the attribute {_source(node)!r}; only math.<function> and math.<constant> "
                           "are attributes a xacro expression may use")
        if isinstance(node, ast.BinOp):
            return self._binary(node)
        if isinstance(node, ast.UnaryOp):
            operand = self._value(node.operand)
            if isinstance(node.op, ast.Not):
                return not operand
            if isinstance(node.op, (ast.USub, ast.UAdd)) and _is_number(operand):
                return -operand if isinstance(node.op, ast.USub) else +operand
            raise _Refused(f"applies {type(node.op).__name__} to {type(operand).__name__}")
        if isinstance(node, ast.BoolOp):
            result = self._value(node.values[0])
            for value in node.values[1:]:
                if bool(result) == isinstance(node.op, ast.Or):
                    break
                result = self._value(value)
            return result
        if isinstance(node, ast.Compare):
            left = self._value(node.left)
            for op, comparator in zip(node.ops, node.comparators, strict=True):
                right = self._value(comparator)
                if type(op) not in _COMPARE:
                    raise _Refused(f"uses the comparison {type(op).__name__} (use ==, !=, <, <=, >, >=, in)")
                if isinstance(op, (ast.In, ast.NotIn)) and not isinstance(right, str):
                    raise _Refused("uses 'in' on something that is not a string")
                if not _COMPARE[type(op)](left, right):
                    return False
                left = right
            return True
        if isinstance(node, ast.IfExp):
            return self._value(node.body) if self._value(node.test) else self._value(node.orelse)
        if isinstance(node, ast.Call):
            return self._call(node)
        raise _Refused(f"uses {type(node).__name__} syntax ({_source(node)!r})")

    def _is_property(self, name: str) -> bool:
        """Whether ``name`` is a property the file defined (rather than one of xacro's global symbols)."""
        table = self.symbols
        while hasattr(table, "parent") and table is not getattr(table, "root", None):
            if dict.__contains__(table, name):
                return True
            table = table.parent
        return False

    def _namespace_property(self, namespace: str, name: str) -> Value:
        """``ns.name``: a property of a file included with ``<xacro:include ns="ns">``."""
        space = self.symbols[namespace]
        if isinstance(space, dict) and hasattr(space, "parent") and dict.__contains__(space, name):
            value = space[name]
            if isinstance(value, (bool, int, float, str)):
                return _bounded(value)
        raise _Refused(f"reads {namespace}.{name}, which is not a property of an included namespace {namespace!r}")

    def _name(self, name: str) -> Value | _Function:
        if self._is_property(name):
            value = self.symbols[name]
            if isinstance(value, (bool, int, float, str)):
                return _bounded(value)
            raise _Refused(f"reads property {name!r}, whose value is a {type(value).__name__}, not a number or string")
        if name in _FUNCTIONS:
            return _Function(name)
        if name in _MATH_CONSTANTS:
            return _MATH_CONSTANTS[name]
        if name in ("True", "False"):
            return name == "True"
        if name in self.symbols:  # one of xacro's own globals: python, xacro, load_yaml, list, type, ...
            raise _Refused(f"uses {name!r}, which a xacro expression may not reach here")
        raise _Refused(f"uses the name {name!r}, which is not a defined property")

    def _binary(self, node: ast.BinOp) -> Value:
        left, right = self._value(node.left), self._value(node.right)
        op = type(node.op)
        if op not in _BINARY:
            raise _Refused(f"uses the operator {op.__name__} (allowed: + - * / // % **)")
        strings = isinstance(left, str) or isinstance(right, str)
        if strings:
            if op is ast.Add and isinstance(left, str) and isinstance(right, str):
                _check_length(len(left) + len(right))
            elif op is ast.Mult and isinstance(left, str) != isinstance(right, str):
                text, count = (left, right) if isinstance(left, str) else (right, left)
                if not isinstance(count, int):
                    raise _Refused("repeats a string a non-integer number of times")
                _check_length(len(text) * max(count, 0))
            else:
                raise _Refused(f"applies {op.__name__} to a string (only 'text' + 'text' and 'text' * n)")
        elif op is ast.Pow and isinstance(left, int) and isinstance(right, int) and right > 0:
            if max(abs(left).bit_length(), 1) * right > MAX_INT_BITS and abs(left) > 1:
                raise _Refused(f"computes a power with about {abs(left).bit_length() * right} bits "
                               f"(at most {MAX_INT_BITS})")
        try:
            result = _BINARY[op](left, right)
        except (ArithmeticError, ValueError, TypeError) as exc:
            raise _Refused(f"fails: {type(exc).__name__}: {exc}") from None
        return _bounded(result)

    def _call(self, node: ast.Call) -> Value:
        function = self._node(node.func)
        if not isinstance(function, _Function):
            raise _Refused(f"calls {_source(node.func)!r}, which is not an arithmetic or math function")
        if node.keywords or any(isinstance(argument, ast.Starred) for argument in node.args):
            raise _Refused(f"calls {function.name}() with keyword or * arguments; give plain arguments")
        arguments = [self._value(argument) for argument in node.args]
        if function.name in _MATH_FUNCTIONS and not all(_is_number(argument) for argument in arguments):
            raise _Refused(f"calls {function.name}() with a non-number")
        try:
            result = _FUNCTIONS[function.name](*arguments)
        except _Refused:
            raise
        except (ArithmeticError, ValueError, TypeError) as exc:
            raise _Refused(f"fails in {function.name}(): {type(exc).__name__}: {exc}") from None
        if not isinstance(result, (bool, int, float, str)):
            raise _Refused(f"{function.name}() gave a {type(result).__name__}")
        return _bounded(result)


def _is_number(value: object) -> bool:
    return isinstance(value, (bool, int, float))


def _check_length(length: int) -> None:
    if length > MAX_STRING:
        raise _Refused(f"builds a string of {length} characters (at most {MAX_STRING})")


def _bounded(value: Any) -> Value:
    if isinstance(value, complex):
        raise _Refused("gives a complex number")
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > MAX_INT_BITS:
        raise _Refused(f"gives an integer of {value.bit_length()} bits (at most {MAX_INT_BITS})")
    if isinstance(value, str):
        _check_length(len(value))
    return value  # type: ignore[no-any-return]


def _source(node: ast.AST) -> str:
    try:
        text = ast.unparse(node)
    except Exception:  # noqa: BLE001 - only used to describe the node
        text = type(node).__name__
    return text if len(text) <= 80 else text[:77] + "..."


def _quote(expression: str) -> str:
    text = " ".join(expression.split())
    return text if len(text) <= 160 else text[:157] + "..."


_EXTENSION_REASONS = {
    "env": "reads an environment variable of this machine; a plugin is published, so write the value into the file",
    "optenv": "reads an environment variable of this machine; a plugin is published, so write the value into the "
              "file",
    "find": "needs a ROS workspace and reads outside the file's folder; use paths relative to the xacro file",
    "eval": "runs Python; use ${...} arithmetic instead",
    "cwd": "names a folder of this machine; use paths relative to the xacro file",
    "dirname": "names a folder of this machine; use paths relative to the xacro file",
}


class _Expansion:
    """One sandboxed run of xacro over ``path`` (holds the first refusal and the budget)."""

    def __init__(self, xacro: Any, path: Path) -> None:
        self.xacro = xacro
        self.path = path
        self.root = Path(os.path.realpath(path.parent))
        self.refusal: tuple[Path, str] | None = None
        self.elements = 0
        self.deadline = time.monotonic() + MAX_SECONDS
        self.originals = {name: getattr(xacro, name) for name in _PATCHED}

    # --- the replacements ---------------------------------------------------------------------------------

    def safe_eval(self, expression: Any, symbols: Any, locals_: Any = None) -> Value:
        self._tick()
        text = str(expression)
        try:
            return ExpressionEvaluator(symbols).evaluate(text)
        except _Refused as exc:
            self._refuse(f"xacro expression ${{{_quote(text)}}} {exc}; a xacro expression may use {_ALLOWED}")
            raise

    def eval_extension(self, text: str) -> str:
        self._tick()
        inner = text[2:-1].strip() if text.startswith("$(") and text.endswith(")") else text
        words = inner.split()
        command = words[0] if words else ""
        if command == "arg" and len(words) == 2:
            arguments = self.xacro.substitution_args_context.get("arg", {})
            if words[1] in arguments:
                return str(arguments[words[1]])
            reason = f"names the argument {words[1]!r}, which no <xacro:arg name=... default=...> defines"
        else:
            reason = _EXTENSION_REASONS.get(command, "is not supported; only $(arg NAME) is")
        self._refuse(f"xacro substitution $({_quote(inner)}) {reason}")
        raise _Refused(reason)

    def get_include_files(self, filename_spec: str, symbols: Any) -> Iterator[str]:
        spec = str(self.xacro.eval_text(filename_spec, symbols))
        if os.path.isabs(spec) or "://" in spec:
            self._refuse(f"<xacro:include filename={spec!r}> is not a path relative to the xacro file; includes "
                         f"must stay inside {self.root}")
            raise _Refused(spec)
        base = os.path.dirname(self.xacro.filestack[-1] or str(self.path))
        pattern = os.path.join(base, spec)
        names = sorted(glob.glob(pattern)) if any(c in spec for c in "*?[") else [pattern]
        for name in names:
            self._inside(Path(name), f"<xacro:include filename={spec!r}>")
            yield name

    def parse(self, source: Any, filename: str | None = None) -> Any:
        if source is not None:
            return self.originals["parse"](source, filename)
        path = Path(filename or "")
        self._inside(path, f"the file {path.name!r}")
        try:
            with open(path, "rb") as handle:
                data = handle.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            self.xacro.filestack.pop()  # as xacro's own parse does: the file in error is not "being processed"
            raise self.xacro.XacroException(f"{exc.strerror}: {path}", exc=exc) from None
        if len(data) > MAX_FILE_BYTES:
            self._refuse(f"{path.name} is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB", at=path)
            raise _Refused("too large")
        if b"<!ENTITY" in data:
            self._refuse("declares XML entities (<!ENTITY ...>); a xacro needs none: use xacro properties", at=path)
            raise _Refused("entities")
        return self.originals["parse"](io.BytesIO(data), filename)

    def eval_all(self, node: Any, macros: Any, symbols: Any) -> Any:
        self.elements += 1
        self._tick()
        return self.originals["eval_all"](node, macros, symbols)

    # --- bookkeeping ----------------------------------------------------------------------------------------

    def _tick(self) -> None:
        if self.elements > MAX_ELEMENTS:
            self._refuse(f"expands to more than {MAX_ELEMENTS} elements (a macro that multiplies itself?); "
                         "nothing was expanded", at=self.path)
            raise _Refused("too many elements")
        if time.monotonic() > self.deadline:
            self._refuse(f"takes longer than {MAX_SECONDS:g} s to expand; nothing was expanded", at=self.path)
            raise _Refused("too slow")

    def _inside(self, path: Path, what: str) -> None:
        real = Path(os.path.realpath(path))
        if real != self.root and self.root not in real.parents:
            self._refuse(f"{what} lies outside the xacro file's folder {self.root} (through '..', an absolute path "
                         "or a symlink); a hand's description may only use files in its own folder tree")
            raise _Refused(str(path))

    def _refuse(self, message: str, at: Path | None = None) -> None:
        if self.refusal is None:
            current = at or Path(self.xacro.filestack[-1] if self.xacro.filestack and self.xacro.filestack[-1]
                                 else self.path)
            self.refusal = (current, message)

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        for name in _PATCHED:
            setattr(self.xacro, name, getattr(self, name))
        try:
            yield
        finally:
            for name, original in self.originals.items():
                setattr(self.xacro, name, original)


def expand_xacro(path: Path) -> tuple[str, tuple[str, ...]]:
    """The URDF text of ``path`` expanded in the sandbox, and xacro's warnings; raise :class:`UrdfError`."""
    try:
        import xacro
    except ImportError:
        raise UrdfError(path, ["reading .xacro files needs the xacro package: pip install xacro"]) from None
    missing = [name for name in (*_PATCHED, "substitution_args_context", "filestack", "XacroException",
                                 "eval_text", "process_file") if not hasattr(xacro, name)]
    if missing:
        raise UrdfError(path, [f"the installed xacro {getattr(xacro, '__version__', '')} lacks "
                               f"{', '.join(missing)}, which xlsdk replaces to expand vendor files safely; "
                               "install the xacro version in xlsdk's constraints (2.x)"])
    warnings = io.StringIO()
    with _LOCK:
        expansion = _Expansion(xacro, path)
        try:
            with expansion.installed(), contextlib.redirect_stderr(warnings), contextlib.redirect_stdout(warnings):
                document = xacro.process_file(str(path))
        except Exception as exc:  # noqa: BLE001 - xacro raises XacroException and bare Python errors alike
            if expansion.refusal is not None:
                where, message = expansion.refusal
                raise UrdfError(where, [f"xacro could not expand the file: {message}"]) from None
            message = str(exc) or type(exc).__name__
            if isinstance(exc, RecursionError):
                message = "macros nest too deeply (a macro that calls itself?)"
            raise UrdfError(path, [f"xacro could not expand the file: {message}"]) from None
        finally:
            if isinstance(getattr(xacro, "all_includes", None), list):
                xacro.all_includes.clear()  # xacro keeps every include of the process in a module list
        if expansion.refusal is not None:  # refused, yet xacro carried on: still refused
            where, message = expansion.refusal
            raise UrdfError(where, [f"xacro could not expand the file: {message}"])
    _drop_banner_and_doctype(document)
    locations = ("when processing file:", "in file:", "included from:", "when instantiating macro:",
                 "instantiated from:")
    notes = tuple(f"xacro: {line.strip()}" for line in warnings.getvalue().splitlines()
                  if line.strip() and not line.strip().startswith(locations))
    return document.toprettyxml(indent="  "), notes


def _drop_banner_and_doctype(document: Any) -> None:
    """xacro's banner names the input's absolute path (a folder of this machine) and a DOCTYPE is not needed."""
    for node in list(document.childNodes):
        if node.nodeType == node.COMMENT_NODE and ("autogenerated by xacro" in node.data
                                                   or "EDITING THIS FILE BY HAND" in node.data
                                                   or set(node.data.strip()) <= {"="}):
            document.removeChild(node)
        elif node.nodeType == node.DOCUMENT_TYPE_NODE:
            document.removeChild(node)
