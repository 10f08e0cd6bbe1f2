"""LeRobot's face of the xlsdk physics world: ``--env.type=xlsdk --env.hand=inspire``.

LeRobot 0.6 imports this distribution (its name starts with ``lerobot_env_``) from
``register_third_party_plugins()``; importing registers :class:`XlsdkEnvConfig` as env type ``xlsdk``.
``lerobot.envs.factory.make_env(config)`` then imports :mod:`xlsdk.gymnasium_env` (the config's
``package_name``), which registers the gymnasium id, and builds vector envs of it.
"""

from lerobot_env_xlsdk.config import XlsdkEnvConfig

__all__ = ["XlsdkEnvConfig"]
