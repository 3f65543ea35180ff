"""joonson/syncnet_python's SyncNet (the ``syncnet_v2.model`` used for published LSE-D / LSE-C).

Attribute names follow ``SyncNetModel.S`` so ``syncnet_v2.model`` (a bare state dict) loads
strictly: ``netcnnaud.*`` / ``netfcaud.*`` embed a ``(B, 1, 13, 20)`` MFCC window (13 cepstra x
20 steps of 10 ms = 0.2 s); ``netcnnlip.*`` / ``netfclip.*`` embed ``(B, 3, 5, 224, 224)``: five
consecutive 224x224 BGR face crops with raw 0-255 values (the reference feeds ``cv2.imread``
frames unnormalised). The embeddings are not normalised; the metric is their Euclidean distance.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor, nn


@dataclass(frozen=True)
class SyncNetV2Config:
    """Shape of joonson's SyncNet.

    Attributes:
        embedding_dim: Output size of both streams (``num_layers_in_fc_layers``, 1024 published).
    """

    embedding_dim: int = 1024


class SyncNetV2(nn.Module):
    """joonson's two-stream SyncNet ("S" in ``SyncNetModel.py``).

    Args:
        config: Network shape.
    """

    net_name = "syncnet_v2"

    def __init__(self, config: SyncNetV2Config | None = None):
        super().__init__()
        self.config = config or SyncNetV2Config()
        dim = self.config.embedding_dim
        self.netcnnaud = nn.Sequential(
            nn.Conv2d(1, 64, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1)),
            nn.BatchNorm2d(64),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=(1, 1), stride=(1, 1)),
            nn.Conv2d(64, 192, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1)),
            nn.BatchNorm2d(192),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=(3, 3), stride=(1, 2)),
            nn.Conv2d(192, 384, kernel_size=(3, 3), padding=(1, 1)),
            nn.BatchNorm2d(384),
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=(3, 3), padding=(1, 1)),
            nn.BatchNorm2d(256),
            nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, kernel_size=(3, 3), padding=(1, 1)),
            nn.BatchNorm2d(256),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=(3, 3), stride=(2, 2)),
            nn.Conv2d(256, 512, kernel_size=(5, 4), padding=(0, 0)),
            nn.BatchNorm2d(512),
            nn.ReLU(),
        )
        self.netfcaud = nn.Sequential(
            nn.Linear(512, 512), nn.BatchNorm1d(512), nn.ReLU(), nn.Linear(512, dim)
        )
        self.netfclip = nn.Sequential(
            nn.Linear(512, 512), nn.BatchNorm1d(512), nn.ReLU(), nn.Linear(512, dim)
        )
        self.netcnnlip = nn.Sequential(
            nn.Conv3d(3, 96, kernel_size=(5, 7, 7), stride=(1, 2, 2), padding=0),
            nn.BatchNorm3d(96),
            nn.ReLU(inplace=True),
            nn.MaxPool3d(kernel_size=(1, 3, 3), stride=(1, 2, 2)),
            nn.Conv3d(96, 256, kernel_size=(1, 5, 5), stride=(1, 2, 2), padding=(0, 1, 1)),
            nn.BatchNorm3d(256),
            nn.ReLU(inplace=True),
            nn.MaxPool3d(kernel_size=(1, 3, 3), stride=(1, 2, 2), padding=(0, 1, 1)),
            nn.Conv3d(256, 256, kernel_size=(1, 3, 3), padding=(0, 1, 1)),
            nn.BatchNorm3d(256),
            nn.ReLU(inplace=True),
            nn.Conv3d(256, 256, kernel_size=(1, 3, 3), padding=(0, 1, 1)),
            nn.BatchNorm3d(256),
            nn.ReLU(inplace=True),
            nn.Conv3d(256, 256, kernel_size=(1, 3, 3), padding=(0, 1, 1)),
            nn.BatchNorm3d(256),
            nn.ReLU(inplace=True),
            nn.MaxPool3d(kernel_size=(1, 3, 3), stride=(1, 2, 2)),
            nn.Conv3d(256, 512, kernel_size=(1, 6, 6), padding=0),
            nn.BatchNorm3d(512),
            nn.ReLU(inplace=True),
        )

    def forward_aud(self, mfcc: Tensor) -> Tensor:
        """Embed ``(B, 1, 13, 20)`` MFCC windows -> ``(B, embedding_dim)``."""
        return self.netfcaud(self.netcnnaud(mfcc).flatten(1))

    def forward_lip(self, frames: Tensor) -> Tensor:
        """Embed ``(B, 3, 5, 224, 224)`` BGR 0-255 face windows -> ``(B, embedding_dim)``."""
        return self.netfclip(self.netcnnlip(frames).flatten(1))

    def forward(self, mfcc: Tensor, frames: Tensor) -> tuple[Tensor, Tensor]:
        """Embed both streams: ``(audio_embedding, lip_embedding)``."""
        return self.forward_aud(mfcc), self.forward_lip(frames)
