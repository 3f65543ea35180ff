"""The render preload loads, in a fresh process, what a first segment render would load."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]

SCRIPT = """
import sys
from lipcore.progress import drain
from lipcore.render.preload import STEPS, preload_render
heavy = ("scipy.spatial", "lipcore.face.warp", "lipcore.audio.features", "cv2")
assert not any(m in sys.modules for m in heavy), [m for m in heavy if m in sys.modules]
assert drain(preload_render(), show=False) == len(STEPS)
missing = [m for m in heavy if m not in sys.modules]
assert not missing, missing
# The render's mel front end is NumPy: nothing of librosa or numba is loaded for it.
assert not any(m in sys.modules for m in ("librosa", "numba", "scipy.signal")), "slow imports"
print("ok")
"""


def test_preload_imports_the_first_renders_libraries_in_a_fresh_process():
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().endswith("ok")
