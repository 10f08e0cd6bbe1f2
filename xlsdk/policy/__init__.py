"""XL-VLA: a policy that predicts chunks of the shared latent, on LeRobot.

* :mod:`xlsdk.policy.latent_steps`: LeRobot processor steps that encode a hand's joints into latents
  and decode latent chunks into the joints of whatever hand is attached, so any LeRobot policy can be
  trained in latent space;
* :mod:`xlsdk.policy.configuration_xlvla` / :mod:`~xlsdk.policy.modeling_xlvla` /
  :mod:`~xlsdk.policy.processor_xlvla`: the native policy, registered as LeRobot policy type ``xlvla``;
* :mod:`xlsdk.policy.train` and :mod:`xlsdk.policy.run`: ``xlsdk policy train`` and ``xlsdk policy run``;
* :mod:`xlsdk.policy.crosshand`: the cross-hand benchmark (``xlsdk bench crosshand``).
"""
