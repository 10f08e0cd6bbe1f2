"""The benchmarks: consumers of the policy, physics, onboarding and plugins, never imported by the library.

* :mod:`xlsdk.bench.crosshand`: the kinematic cross-hand benchmark (``xlsdk bench crosshand``), whose
  tasks and closed-loop episode also serve ``xlsdk policy run``;
* :mod:`xlsdk.bench.physics`: the physics cross-hand benchmark (``xlsdk bench physics``): a scripted
  expert in MuJoCo, LeRobot datasets, the policy arms, success from object state;
* :mod:`xlsdk.bench.harness`: what both share (splits, the reproduce command, latency, report files,
  LeRobot feature records).
"""
