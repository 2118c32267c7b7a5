"""`python -m decode_cloud` is `decode-cloud`."""

import sys

from decode_cloud.cli import main

sys.exit(main())
