"""Former name of :mod:`xlsdk.latent.head_loading`, kept only while xlsdk/bench, xlsdk/demo and tests/test_cli.py still import it.

The two modules ``head`` (the network) and ``heads`` (finding and verifying head files) differed by one letter;
they are now ``head_network`` and ``head_loading``. This alias is the same module object, not a copy.
"""

import sys

from xlsdk.latent import head_loading

sys.modules[__name__] = head_loading
