"""The cross-hand benchmark: tasks and scenes, IK demonstrations, LeRobot datasets, the two arms."""
