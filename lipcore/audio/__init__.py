"""Audio features on 16 kHz mono speech: Wav2Lip's mel front-end, spectral features for the
built-in sync meter, loudness envelopes and voice activity.

Loading and resampling files lives in :mod:`lipcore.media.audio`; everything here takes a float
numpy array of 16 kHz samples in [-1, 1] that is already on the video clock (sample 0 plays with
frame 0).
"""

SAMPLE_RATE = 16000
