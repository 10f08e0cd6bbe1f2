"""XL-VLA: a policy that predicts chunks of the shared latent, on LeRobot.

This package is the model and what trains it, nothing that runs a world or a benchmark:

* :mod:`xlsdk.policy.latent_steps`: LeRobot processor steps that encode a hand's joints into latents
  and decode latent chunks into the joints of whatever hand is attached, so any LeRobot policy can be
  trained in latent space; :mod:`xlsdk.policy.slot_steps`: their twins for the functional joint slots;
* :mod:`xlsdk.policy.configuration_xlvla` / :mod:`~xlsdk.policy.modeling_xlvla` /
  :mod:`~xlsdk.policy.processor_xlvla`: the native policy, registered as LeRobot policy type ``xlvla``;
* :mod:`xlsdk.policy.action_space`: the action spaces a policy can be trained in (latent, padded raw joints,
  functional joint slots);
* :mod:`xlsdk.policy.train`: training on LeRobot datasets (``xlsdk policy train``).

The benchmarks that train and grade policies (kinematic and physics) are consumers on top, in
:mod:`xlsdk.bench`.
"""
