"""LeRobot's face of xlsdk hands: ``--robot.type=xlsdk_hand --robot.hand=inspire --robot.driver=sim``.

LeRobot 0.6 imports this distribution (its name starts with ``lerobot_robot_``) from
``register_third_party_plugins()``; importing registers the config, and LeRobot finds the robot class
next to it.
"""

from lerobot_robot_xlsdk.config_xlsdk_hand import XlsdkHandConfig
from lerobot_robot_xlsdk.xlsdk_hand import XlsdkHand

__all__ = ["XlsdkHand", "XlsdkHandConfig"]
