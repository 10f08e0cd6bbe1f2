"""The xlsdk version, in a module of its own.

Head files, core latents and publish checks record or compare it; importing it from here rather than
from the package root keeps library modules from depending on ``xlsdk/__init__`` (which re-exports the
whole public API) and keeps the import graph one-directional. pyproject.toml carries the same number.
"""

__version__ = "0.1.0"
