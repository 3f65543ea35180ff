"""Entry point of the desktop bundle: the editor, or the ``lipsync`` command line.

One executable serves both (one copy of PyTorch and Qt in the bundle): started as ``lipsync``
(the symlink the build script makes next to it) it runs :func:`lipcore.cli.main`, otherwise
the editor.
"""

from __future__ import annotations

import os
import sys


def main() -> int:
    """Dispatch on the name the executable was started under."""
    name = os.path.splitext(os.path.basename(sys.argv[0]))[0].lower()
    if name == "lipsync":
        from lipcore.cli import main as cli_main

        return cli_main()
    from editor.__main__ import main as editor_main

    return editor_main()


if __name__ == "__main__":
    sys.exit(main())
