"""``python -m lipcore.cli``: the same as the ``lipsync`` command."""

import sys

from lipcore.cli import main

sys.exit(main())
