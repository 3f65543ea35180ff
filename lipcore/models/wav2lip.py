"""The Wav2Lip generator (Prajwal et al., ACM MM 2020) and its visual-quality discriminator.

Layer layout and attribute names follow the paper's released code, so the public checkpoints
``wav2lip.pth`` / ``wav2lip_gan.pth`` load strictly into :class:`Wav2Lip` (keys such as
``face_encoder_blocks.0.0.conv_block.0.weight``, ``audio_encoder.0.conv_block.1.running_mean``,
``output_block.0.conv_block.0.weight``).

Inputs, as in the paper: a 6-channel 96x96 face (the target with its lower half zeroed, then the
reference frame; BGR, values in [0, 1]) and a ``(1, 80, 16)`` Wav2Lip mel window. The output is
the 3-channel 96x96 face in [0, 1] (sigmoid). Every channel width is a multiple of
``base_channels`` (16 in the public nets), which lets tests build tiny nets with the same keys.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from lipcore.models.blocks import Conv2d, Conv2dTranspose, NoNormConv2d


@dataclass(frozen=True)
class Wav2LipConfig:
    """Shape of a Wav2Lip generator.

    Attributes:
        base_channels: Width of the first face-encoder block; 16 = the public checkpoints.
        img_size: Side of the square face crop (the architecture is fixed to 96).
        mel_bins: Mel bands of the audio window.
        mel_steps: Mel steps per window (0.2 s at 80 steps/s).
    """

    base_channels: int = 16
    img_size: int = 96
    mel_bins: int = 80
    mel_steps: int = 16

    def __post_init__(self):
        if self.img_size != 96 or self.mel_bins != 80 or self.mel_steps != 16:
            raise ValueError("the Wav2Lip architecture needs 96x96 faces and (80, 16) mel windows")
        if self.base_channels < 1:
            raise ValueError(f"base_channels must be positive, got {self.base_channels}")


def audio_encoder(b: int) -> nn.Sequential:
    """Wav2Lip's audio encoder: ``(B, 1, 80, 16)`` mel -> ``(B, 32b, 1, 1)`` embedding."""
    return nn.Sequential(
        Conv2d(1, 2 * b, 3, 1, 1),
        Conv2d(2 * b, 2 * b, 3, 1, 1, residual=True),
        Conv2d(2 * b, 2 * b, 3, 1, 1, residual=True),
        Conv2d(2 * b, 4 * b, 3, (3, 1), 1),  # 27x16
        Conv2d(4 * b, 4 * b, 3, 1, 1, residual=True),
        Conv2d(4 * b, 4 * b, 3, 1, 1, residual=True),
        Conv2d(4 * b, 8 * b, 3, 3, 1),  # 9x6
        Conv2d(8 * b, 8 * b, 3, 1, 1, residual=True),
        Conv2d(8 * b, 8 * b, 3, 1, 1, residual=True),
        Conv2d(8 * b, 16 * b, 3, (3, 2), 1),  # 3x3
        Conv2d(16 * b, 16 * b, 3, 1, 1, residual=True),
        Conv2d(16 * b, 32 * b, 3, 1, 0),  # 1x1
        Conv2d(32 * b, 32 * b, 1, 1, 0),
    )


class Wav2Lip(nn.Module):
    """The Wav2Lip generator: U-Net face encoder/decoder conditioned on an audio embedding.

    Args:
        config: Network shape (defaults to the public checkpoints' shape).
    """

    net_name = "wav2lip"

    def __init__(self, config: Wav2LipConfig | None = None):
        super().__init__()
        self.config = config or Wav2LipConfig()
        b = self.config.base_channels
        s = nn.Sequential
        self.face_encoder_blocks = nn.ModuleList(
            [
                s(Conv2d(6, b, 7, 1, 3)),  # 96x96
                s(
                    Conv2d(b, 2 * b, 3, 2, 1),  # 48x48
                    Conv2d(2 * b, 2 * b, 3, 1, 1, residual=True),
                    Conv2d(2 * b, 2 * b, 3, 1, 1, residual=True),
                ),
                s(
                    Conv2d(2 * b, 4 * b, 3, 2, 1),  # 24x24
                    Conv2d(4 * b, 4 * b, 3, 1, 1, residual=True),
                    Conv2d(4 * b, 4 * b, 3, 1, 1, residual=True),
                    Conv2d(4 * b, 4 * b, 3, 1, 1, residual=True),
                ),
                s(
                    Conv2d(4 * b, 8 * b, 3, 2, 1),  # 12x12
                    Conv2d(8 * b, 8 * b, 3, 1, 1, residual=True),
                    Conv2d(8 * b, 8 * b, 3, 1, 1, residual=True),
                ),
                s(
                    Conv2d(8 * b, 16 * b, 3, 2, 1),  # 6x6
                    Conv2d(16 * b, 16 * b, 3, 1, 1, residual=True),
                    Conv2d(16 * b, 16 * b, 3, 1, 1, residual=True),
                ),
                s(
                    Conv2d(16 * b, 32 * b, 3, 2, 1),  # 3x3
                    Conv2d(32 * b, 32 * b, 3, 1, 1, residual=True),
                ),
                s(Conv2d(32 * b, 32 * b, 3, 1, 0), Conv2d(32 * b, 32 * b, 1, 1, 0)),  # 1x1
            ]
        )
        self.audio_encoder = audio_encoder(b)
        # Decoder inputs are the previous output concatenated with the matching encoder feature.
        self.face_decoder_blocks = nn.ModuleList(
            [
                s(Conv2d(32 * b, 32 * b, 1, 1, 0)),
                s(
                    Conv2dTranspose(64 * b, 32 * b, 3, 1, 0),  # 3x3
                    Conv2d(32 * b, 32 * b, 3, 1, 1, residual=True),
                ),
                s(
                    Conv2dTranspose(64 * b, 32 * b, 3, 2, 1, output_padding=1),  # 6x6
                    Conv2d(32 * b, 32 * b, 3, 1, 1, residual=True),
                    Conv2d(32 * b, 32 * b, 3, 1, 1, residual=True),
                ),
                s(
                    Conv2dTranspose(48 * b, 24 * b, 3, 2, 1, output_padding=1),  # 12x12
                    Conv2d(24 * b, 24 * b, 3, 1, 1, residual=True),
                    Conv2d(24 * b, 24 * b, 3, 1, 1, residual=True),
                ),
                s(
                    Conv2dTranspose(32 * b, 16 * b, 3, 2, 1, output_padding=1),  # 24x24
                    Conv2d(16 * b, 16 * b, 3, 1, 1, residual=True),
                    Conv2d(16 * b, 16 * b, 3, 1, 1, residual=True),
                ),
                s(
                    Conv2dTranspose(20 * b, 8 * b, 3, 2, 1, output_padding=1),  # 48x48
                    Conv2d(8 * b, 8 * b, 3, 1, 1, residual=True),
                    Conv2d(8 * b, 8 * b, 3, 1, 1, residual=True),
                ),
                s(
                    Conv2dTranspose(10 * b, 4 * b, 3, 2, 1, output_padding=1),  # 96x96
                    Conv2d(4 * b, 4 * b, 3, 1, 1, residual=True),
                    Conv2d(4 * b, 4 * b, 3, 1, 1, residual=True),
                ),
            ]
        )
        self.output_block = nn.Sequential(
            Conv2d(5 * b, 2 * b, 3, 1, 1), nn.Conv2d(2 * b, 3, 1, 1, 0), nn.Sigmoid()
        )

    def forward(self, audio_sequences: Tensor, face_sequences: Tensor) -> Tensor:
        """Generate faces.

        Args:
            audio_sequences: ``(B, 1, 80, 16)`` mel windows, or ``(B, T, 1, 80, 16)``.
            face_sequences: ``(B, 6, 96, 96)`` masked target + reference in [0, 1], or
                ``(B, 6, T, 96, 96)`` (the training layout).

        Returns:
            ``(B, 3, 96, 96)`` (or ``(B, 3, T, 96, 96)``) faces in [0, 1].
        """
        batch = audio_sequences.size(0)
        temporal = face_sequences.dim() > 4
        if temporal:
            # Fold time into the batch, frame-major, as the paper's code does.
            t = face_sequences.size(2)
            audio_sequences = torch.cat([audio_sequences[:, i] for i in range(t)], dim=0)
            face_sequences = torch.cat([face_sequences[:, :, i] for i in range(t)], dim=0)
        x = self.audio_encoder(audio_sequences)  # (B, 32b, 1, 1)
        feats = []
        f = face_sequences
        for block in self.face_encoder_blocks:
            f = block(f)
            feats.append(f)
        for block in self.face_decoder_blocks:
            x = block(x)
            x = torch.cat((x, feats.pop()), dim=1)
        x = self.output_block(x)  # (B*T, 3, 96, 96)
        if temporal:
            x = torch.stack(torch.split(x, batch, dim=0), dim=2)  # (B, 3, T, 96, 96)
        return x


@dataclass(frozen=True)
class Wav2LipDiscriminatorConfig:
    """Shape of the visual-quality discriminator (``wav2lip_gan.pth`` training).

    Attributes:
        base_channels: Width of the first block; 32 = the paper's discriminator.
    """

    base_channels: int = 32


class Wav2LipDiscriminator(nn.Module):
    """Wav2Lip's visual-quality discriminator on the lower half of generated faces.

    Args:
        config: Network shape.
    """

    net_name = "wav2lip_disc"

    def __init__(self, config: Wav2LipDiscriminatorConfig | None = None):
        super().__init__()
        self.config = config or Wav2LipDiscriminatorConfig()
        b = self.config.base_channels
        c = NoNormConv2d
        s = nn.Sequential
        self.face_encoder_blocks = nn.ModuleList(
            [
                s(c(3, b, 7, 1, 3)),  # 48x96
                s(c(b, 2 * b, 5, (1, 2), 2), c(2 * b, 2 * b, 5, 1, 2)),  # 48x48
                s(c(2 * b, 4 * b, 5, 2, 2), c(4 * b, 4 * b, 5, 1, 2)),  # 24x24
                s(c(4 * b, 8 * b, 5, 2, 2), c(8 * b, 8 * b, 5, 1, 2)),  # 12x12
                s(c(8 * b, 16 * b, 3, 2, 1), c(16 * b, 16 * b, 3, 1, 1)),  # 6x6
                s(c(16 * b, 16 * b, 3, 2, 1), c(16 * b, 16 * b, 3, 1, 1)),  # 3x3
                s(c(16 * b, 16 * b, 3, 1, 0), c(16 * b, 16 * b, 1, 1, 0)),  # 1x1
            ]
        )
        self.binary_pred = nn.Sequential(nn.Conv2d(16 * b, 1, 1, 1, 0), nn.Sigmoid())

    def forward(self, face_sequences: Tensor) -> Tensor:
        """Probability that each face is real.

        Args:
            face_sequences: ``(B, 3, T, 96, 96)`` or ``(B, 3, 96, 96)`` faces in [0, 1].

        Returns:
            ``(B*T, 1)`` probabilities (frame-major when temporal).
        """
        if face_sequences.dim() > 4:
            t = face_sequences.size(2)
            face_sequences = torch.cat([face_sequences[:, :, i] for i in range(t)], dim=0)
        x = face_sequences[:, :, face_sequences.size(2) // 2 :]  # lower half (B, 3, 48, 96)
        for block in self.face_encoder_blocks:
            x = block(x)
        return self.binary_pred(x).view(len(x), -1)
