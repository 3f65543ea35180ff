"""Wav2Lip's lip-sync expert ("SyncNet_color", the network in ``lipsync_expert.pth``).

Attribute names follow the paper's released code so the public checkpoint loads strictly
(``face_encoder.*``, ``audio_encoder.*``). Inputs: the lower halves of 5 consecutive 96x96 BGR
face crops stacked on channels, ``(B, 15, 48, 96)`` in [0, 1], and the ``(B, 1, 80, 16)`` mel
window starting at the first of those frames. Outputs: L2-normalised audio and face embeddings;
their cosine similarity (in [0, 1], the embeddings are post-ReLU) is the sync probability the
generator is trained against.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from lipcore.models.blocks import Conv2d


@dataclass(frozen=True)
class SyncNetConfig:
    """Shape of a Wav2Lip sync expert.

    Attributes:
        base_channels: Width of the first face-encoder block; 32 = ``lipsync_expert.pth``.
        frames: Consecutive video frames per window (5 = 0.2 s at 25 fps).
    """

    base_channels: int = 32
    frames: int = 5

    def __post_init__(self):
        if self.frames != 5:
            raise ValueError("the Wav2Lip sync expert takes windows of 5 frames")
        if self.base_channels < 1:
            raise ValueError(f"base_channels must be positive, got {self.base_channels}")


class SyncNet(nn.Module):
    """Wav2Lip's colour sync expert.

    Args:
        config: Network shape (defaults to ``lipsync_expert.pth``'s shape).
    """

    net_name = "syncnet"

    def __init__(self, config: SyncNetConfig | None = None):
        super().__init__()
        self.config = config or SyncNetConfig()
        b = self.config.base_channels
        self.face_encoder = nn.Sequential(
            Conv2d(3 * self.config.frames, b, 7, 1, 3),  # 48x96
            Conv2d(b, 2 * b, 5, (1, 2), 1),  # 46x47
            Conv2d(2 * b, 2 * b, 3, 1, 1, residual=True),
            Conv2d(2 * b, 2 * b, 3, 1, 1, residual=True),
            Conv2d(2 * b, 4 * b, 3, 2, 1),  # 23x24
            Conv2d(4 * b, 4 * b, 3, 1, 1, residual=True),
            Conv2d(4 * b, 4 * b, 3, 1, 1, residual=True),
            Conv2d(4 * b, 4 * b, 3, 1, 1, residual=True),
            Conv2d(4 * b, 8 * b, 3, 2, 1),  # 12x12
            Conv2d(8 * b, 8 * b, 3, 1, 1, residual=True),
            Conv2d(8 * b, 8 * b, 3, 1, 1, residual=True),
            Conv2d(8 * b, 16 * b, 3, 2, 1),  # 6x6
            Conv2d(16 * b, 16 * b, 3, 1, 1, residual=True),
            Conv2d(16 * b, 16 * b, 3, 1, 1, residual=True),
            Conv2d(16 * b, 16 * b, 3, 2, 1),  # 3x3
            Conv2d(16 * b, 16 * b, 3, 1, 0),  # 1x1
            Conv2d(16 * b, 16 * b, 1, 1, 0),
        )
        self.audio_encoder = nn.Sequential(
            Conv2d(1, b, 3, 1, 1),
            Conv2d(b, b, 3, 1, 1, residual=True),
            Conv2d(b, b, 3, 1, 1, residual=True),
            Conv2d(b, 2 * b, 3, (3, 1), 1),  # 27x16
            Conv2d(2 * b, 2 * b, 3, 1, 1, residual=True),
            Conv2d(2 * b, 2 * b, 3, 1, 1, residual=True),
            Conv2d(2 * b, 4 * b, 3, 3, 1),  # 9x6
            Conv2d(4 * b, 4 * b, 3, 1, 1, residual=True),
            Conv2d(4 * b, 4 * b, 3, 1, 1, residual=True),
            Conv2d(4 * b, 8 * b, 3, (3, 2), 1),  # 3x3
            Conv2d(8 * b, 8 * b, 3, 1, 1, residual=True),
            Conv2d(8 * b, 8 * b, 3, 1, 1, residual=True),
            Conv2d(8 * b, 16 * b, 3, 1, 0),  # 1x1
            Conv2d(16 * b, 16 * b, 1, 1, 0),
        )

    def forward(self, audio_sequences: Tensor, face_sequences: Tensor) -> tuple[Tensor, Tensor]:
        """Embed a mel window and a 5-frame lower-face window.

        Args:
            audio_sequences: ``(B, 1, 80, 16)`` mel windows.
            face_sequences: ``(B, 15, 48, 96)`` stacked lower halves in [0, 1].

        Returns:
            ``(audio_embedding, face_embedding)``, each ``(B, 16b)`` and L2-normalised.
        """
        face_embedding = self.face_encoder(face_sequences).flatten(1)
        audio_embedding = self.audio_encoder(audio_sequences).flatten(1)
        return F.normalize(audio_embedding, p=2, dim=1), F.normalize(face_embedding, p=2, dim=1)


def sync_probability(audio_embedding: Tensor, face_embedding: Tensor) -> Tensor:
    """Cosine similarity of matching rows, clamped into (0, 1) so it can feed a BCE loss."""
    sim = torch.sum(audio_embedding * face_embedding, dim=1)
    return sim.clamp(1e-6, 1 - 1e-6)


def sync_loss(audio_embedding: Tensor, face_embedding: Tensor, labels: Tensor) -> Tensor:
    """Wav2Lip's expert loss: BCE between cosine similarity and 1 (in sync) / 0 (off sync).

    Args:
        audio_embedding: ``(B, D)`` normalised audio embeddings.
        face_embedding: ``(B, D)`` normalised face embeddings.
        labels: ``(B,)`` or ``(B, 1)`` targets in {0, 1}.
    """
    prob = sync_probability(audio_embedding, face_embedding)
    return F.binary_cross_entropy(prob, labels.reshape(-1).to(prob.dtype))
