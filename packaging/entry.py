"""Entry point of the desktop bundle: the editor, or the ``lipsync`` command line.

One executable serves both (one copy of PyTorch and Qt in the bundle): started as ``lipsync``
(the symlink the build script makes next to it) it runs :func:`lipcore.cli.main`, otherwise
the editor. Started with ``--lipsync-job-worker`` (by the editor itself,
:class:`editor.model.job_process.JobProcess`) it is the editor's worker process.
"""

from __future__ import annotations

import os
import sys


def main() -> int:
    """Dispatch on the name the executable was started under."""
    from editor.model.job_process import WORKER_FLAG

    if len(sys.argv) > 1 and sys.argv[1] == WORKER_FLAG:
        from editor.model.job_worker import main as worker_main

        return worker_main(sys.argv[2:])
    name = os.path.splitext(os.path.basename(sys.argv[0]))[0].lower()
    if name == "lipsync":
        from lipcore.cli import main as cli_main

        return cli_main()
    from editor.__main__ import main as editor_main

    return editor_main()


if __name__ == "__main__":
    sys.exit(main())
