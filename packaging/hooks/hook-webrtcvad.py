"""PyInstaller hook: the ``webrtcvad`` module comes from the ``webrtcvad-wheels`` distribution.

The community hook copies the metadata of a distribution named ``webrtcvad``, which is not
installed here, and stops the build; this one (found first, through ``hookspath``) copies the
metadata of the distribution actually installed.
"""

from PyInstaller.utils.hooks import copy_metadata

datas = copy_metadata("webrtcvad-wheels")
