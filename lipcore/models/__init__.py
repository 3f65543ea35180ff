"""Neural networks, one file per net (Wav2Lip generator, Wav2Lip sync expert, joonson SyncNet v2).

Loading and saving (public checkpoints, ``save_pretrained``/``from_pretrained``, training
checkpoints) lives in :mod:`lipcore.models.checkpoints`; device choice in
:mod:`lipcore.models.device`. Nothing here imports torch at package import time.
"""
