"""Wav2Lip's convolution blocks (``models/conv.py`` of the paper's code), shared by its two nets.

The attribute names (``conv_block``, ``act``) are part of the public checkpoint format: the
state-dict keys ``...conv_block.0.weight`` / ``...conv_block.1.running_mean`` come from them.
"""

from __future__ import annotations

from torch import Tensor, nn


class Conv2d(nn.Module):
    """Conv + BatchNorm + ReLU, with an optional identity shortcut (``residual=True``).

    Args:
        cin: Input channels.
        cout: Output channels (must equal ``cin`` when residual).
        kernel_size: Convolution kernel.
        stride: Convolution stride.
        padding: Convolution padding.
        residual: Add the input before the activation.
    """

    def __init__(self, cin, cout, kernel_size, stride, padding, residual: bool = False):
        super().__init__()
        self.conv_block = nn.Sequential(
            nn.Conv2d(cin, cout, kernel_size, stride, padding), nn.BatchNorm2d(cout)
        )
        self.act = nn.ReLU()
        self.residual = residual

    def forward(self, x: Tensor) -> Tensor:
        """Apply the block."""
        out = self.conv_block(x)
        if self.residual:
            out = out + x
        return self.act(out)


class NoNormConv2d(nn.Module):
    """Conv + LeakyReLU(0.01), no normalisation (the GAN discriminator's block)."""

    def __init__(self, cin, cout, kernel_size, stride, padding):
        super().__init__()
        self.conv_block = nn.Sequential(nn.Conv2d(cin, cout, kernel_size, stride, padding))
        self.act = nn.LeakyReLU(0.01, inplace=True)

    def forward(self, x: Tensor) -> Tensor:
        """Apply the block."""
        return self.act(self.conv_block(x))


class Conv2dTranspose(nn.Module):
    """Transposed conv + BatchNorm + ReLU (the generator's upsampling block)."""

    def __init__(self, cin, cout, kernel_size, stride, padding, output_padding=0):
        super().__init__()
        self.conv_block = nn.Sequential(
            nn.ConvTranspose2d(cin, cout, kernel_size, stride, padding, output_padding),
            nn.BatchNorm2d(cout),
        )
        self.act = nn.ReLU()

    def forward(self, x: Tensor) -> Tensor:
        """Apply the block."""
        return self.act(self.conv_block(x))
