"""Small PyTorch classes and functions a generated file includes only when it uses them.

Each gives a Keras behaviour PyTorch has no single module for: channels-last Flatten and
Reshape, Dense and LayerNormalization on the channel axis of NCHW images, merge layers as
modules (so every spec layer is a named submodule), 'same' average pooling with uneven
padding, Keras's ReLU arguments, and Keras's initialisers with Keras's fans.
"""

from __future__ import annotations

HELPERS: dict[str, str] = {
    "ChannelsLastFlatten": '''
class ChannelsLastFlatten(nn.Module):
    """Keras's Flatten: NCHW is flattened in channels-last order, so Dense weights match."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.permute(0, 2, 3, 1).flatten(1)
''',
    "Reshape": '''
class Reshape(nn.Module):
    """Keras's Reshape, in channels-last order (NCHW images are permuted around it)."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        super().__init__()
        self.shape = shape

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 4:
            x = x.permute(0, 2, 3, 1)
        x = x.reshape(x.shape[0], *self.shape)
        return x.permute(0, 3, 1, 2) if x.dim() == 4 else x
''',
    "ChannelsLastLinear": '''
class ChannelsLastLinear(nn.Linear):
    """Keras's Dense on an image: a linear map over the channel axis of NCHW."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x.movedim(1, -1)).movedim(-1, 1)
''',
    "ChannelsLastLayerNorm": '''
class ChannelsLastLayerNorm(nn.LayerNorm):
    """Keras's LayerNormalization(axis=-1) on an image: over the channel axis of NCHW."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x.movedim(1, -1)).movedim(-1, 1)
''',
    "StepsBatchNorm1d": '''
class StepsBatchNorm1d(nn.BatchNorm1d):
    """Keras's BatchNormalization on (batch, steps, features): over the last axis."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x.transpose(1, 2)).transpose(1, 2)
''',
    "partial_affine": '''
def partial_affine(norm: nn.Module, center: bool, scale: bool) -> nn.Module:
    """Keras's BatchNormalization or LayerNormalization with only beta (center) or only gamma
    (scale): torch's functional forms take gamma and beta separately, either None."""
    if not scale:
        norm.weight = None
    if not center:
        norm.bias = None
    return norm
''',
    "keras_constant": '''
def keras_constant(values: float | tuple[float, ...], shape: tuple[int, ...]) -> torch.Tensor:
    """A constant of Keras's layer, reshaped to broadcast (batch axis first, channels-last).
    Kept in float64 and cast to the input's dtype where it is used, as Keras casts it to the
    compute dtype: a float32 model rounds it as Keras does, a float64 one computes exactly."""
    return torch.tensor(values, dtype=torch.float64).reshape(shape)


def to_nchw(constant: torch.Tensor) -> torch.Tensor:
    """A channels-last broadcast shape (1, H, W, C) as NCHW's (1, C, H, W)."""
    return constant.permute(0, 3, 1, 2) if constant.dim() == 4 else constant
''',
    "Rescaling": '''
class Rescaling(nn.Module):
    """Keras's Rescaling: x * scale + offset, each a scalar or one value per channel."""

    def __init__(
        self,
        scale: float | tuple[float, ...],
        offset: float | tuple[float, ...] = 0.0,
        channels_first: bool = False,
    ) -> None:
        super().__init__()
        per_channel = (-1, 1, 1) if channels_first else (-1,)
        self.scale = nn.Buffer(keras_constant(scale, per_channel if isinstance(scale, tuple) else ()),
                               persistent=False)
        self.offset = nn.Buffer(
            keras_constant(offset, per_channel if isinstance(offset, tuple) else ()), persistent=False
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.scale.to(x.dtype) + self.offset.to(x.dtype)
''',
    "Normalization": '''
class Normalization(nn.Module):
    """Keras's Normalization: (x - mean) / max(sqrt(variance), 1e-7), or the inverse.

    Given mean and variance are constants; without them the layer holds Keras's adapted
    state (mean, variance, count) as buffers, loaded with the Keras weights.
    """

    def __init__(
        self,
        shape: tuple[int, ...],
        mean: float | tuple[float, ...] | None = None,
        variance: float | tuple[float, ...] | None = None,
        state_shape: tuple[int, ...] = (),
        invert: bool = False,
    ) -> None:
        super().__init__()
        self.shape = shape
        self.invert = invert
        if mean is None or variance is None:
            self.mean = nn.Buffer(torch.zeros(state_shape))
            self.variance = nn.Buffer(torch.ones(state_shape))
            self.count = nn.Buffer(torch.zeros((), dtype=torch.int64))
        else:
            size = (-1,) if isinstance(mean, tuple) else ()
            self.mean = nn.Buffer(keras_constant(mean, size), persistent=False)
            self.variance = nn.Buffer(keras_constant(variance, size), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean = to_nchw(self.mean.reshape(self.shape)).to(x.dtype)
        std = to_nchw(self.variance.reshape(self.shape)).to(x.dtype).sqrt().clamp_min(1e-7)
        return mean + x * std if self.invert else (x - mean) / std
''',
    "NoiseShapeDropout": '''
class NoiseShapeDropout(nn.Module):
    """Keras's Dropout with noise_shape: one keep-or-drop per cell of that shape, broadcast
    over the input (None: the input's size), kept values scaled by 1 / (1 - rate)."""

    def __init__(self, rate: float, noise_shape: tuple[int | None, ...]) -> None:
        super().__init__()
        self.rate = rate
        self.noise_shape = noise_shape

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.rate == 0.0:
            return x
        shape = [size if noise is None else noise for noise, size in zip(self.noise_shape, x.shape)]
        keep = torch.rand(shape, device=x.device) >= self.rate
        return x * keep.to(x.dtype) / (1.0 - self.rate)
''',
    "Crop2d": '''
class Crop2d(nn.Module):
    """Keras's Cropping2D: drop rows from the top and bottom, columns from the left and right."""

    def __init__(self, top: int, bottom: int, left: int, right: int) -> None:
        super().__init__()
        self.top, self.bottom, self.left, self.right = top, bottom, left, right

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        height, width = x.shape[-2:]
        return x[..., self.top:height - self.bottom, self.left:width - self.right]
''',
    "KerasConvTranspose2d": '''
class KerasConvTranspose2d(nn.ConvTranspose2d):
    """Keras's Conv2DTranspose: the full transposed convolution, then TensorFlow's window of
    it (from `start`, `output_size` long, zeros past its end), then the bias."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        output_size: tuple[int, int],
        start: tuple[int, int],
        stride: int | tuple[int, int] = 1,
        bias: bool = True,
    ) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, bias=bias)
        self.output_size = output_size
        self.start = start

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        full = F.conv_transpose2d(x, self.weight, None, self.stride)
        (height, width), (top, left) = self.output_size, self.start
        kept = full[..., top:top + height, left:left + width]
        kept = F.pad(kept, (0, width - kept.shape[-1], 0, height - kept.shape[-2]))
        return kept if self.bias is None else kept + self.bias.view(-1, 1, 1)
''',
    "SeparableConv2d": '''
class SeparableConv2d(nn.Module):
    """Keras's SeparableConv2D: a depthwise convolution, then a 1x1 one carrying the bias."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] = 0,
        dilation: int | tuple[int, int] = 1,
        depth_multiplier: int = 1,
        bias: bool = True,
    ) -> None:
        super().__init__()
        middle = in_channels * depth_multiplier
        self.depthwise = nn.Conv2d(
            in_channels, middle, kernel_size, stride, padding, dilation, in_channels, bias=False
        )
        self.pointwise = nn.Conv2d(middle, out_channels, 1, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pointwise(self.depthwise(x))
''',
    "AvgPool2dSame": '''
class AvgPool2dSame(nn.Module):
    """Keras's 'same' average pooling with uneven padding: padded cells are not averaged."""

    def __init__(
        self,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int],
        padding: tuple[int, int, int, int],
    ) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        sums = F.avg_pool2d(F.pad(x, self.padding), self.kernel_size, self.stride)
        ones = F.pad(torch.ones_like(x[:1, :1]), self.padding)
        return sums / F.avg_pool2d(ones, self.kernel_size, self.stride)
''',
    "KerasReLU": '''
class KerasReLU(nn.Module):
    """Keras's ReLU layer: x above threshold, clipped at max_value, sloped below threshold."""

    def __init__(
        self, max_value: float | None = None, negative_slope: float = 0.0, threshold: float = 0.0
    ) -> None:
        super().__init__()
        self.max_value = max_value
        self.negative_slope = negative_slope
        self.threshold = threshold

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        below = torch.relu(self.threshold - x)
        y = torch.where(x > self.threshold, x, torch.zeros_like(x))
        if self.max_value is not None:
            y = y.clamp(0.0, self.max_value)
        return y - self.negative_slope * below
''',
    "Merge": '''
class Merge(nn.Module):
    """Keras's element-wise merge layers: inputs broadcast as in Keras, a lower-rank input
    gaining axes after the batch axis (moved to NCHW when the others are images)."""

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        rank = max(x.dim() for x in inputs)
        return self._combine([self._aligned(x, rank) for x in inputs])

    @staticmethod
    def _aligned(x: torch.Tensor, rank: int) -> torch.Tensor:
        if x.dim() == rank:
            return x
        while x.dim() < rank:
            x = x.unsqueeze(1)
        return x.movedim(-1, 1) if rank == 4 else x

    def _combine(self, inputs: list[torch.Tensor]) -> torch.Tensor:
        raise NotImplementedError
''',
    "Add": '''
class Add(Merge):
    """Keras's Add: the element-wise sum of its inputs."""

    def _combine(self, inputs: list[torch.Tensor]) -> torch.Tensor:
        total = inputs[0]
        for x in inputs[1:]:
            total = total + x
        return total
''',
    "Subtract": '''
class Subtract(Merge):
    """Keras's Subtract: the first input minus the second."""

    def _combine(self, inputs: list[torch.Tensor]) -> torch.Tensor:
        return inputs[0] - inputs[1]
''',
    "Multiply": '''
class Multiply(Merge):
    """Keras's Multiply: the element-wise product of its inputs."""

    def _combine(self, inputs: list[torch.Tensor]) -> torch.Tensor:
        product = inputs[0]
        for x in inputs[1:]:
            product = product * x
        return product
''',
    "Average": '''
class Average(Merge):
    """Keras's Average: the sum of its inputs divided by their number."""

    def _combine(self, inputs: list[torch.Tensor]) -> torch.Tensor:
        total = inputs[0]
        for x in inputs[1:]:
            total = total + x
        return total / len(inputs)
''',
    "Maximum": '''
class Maximum(Merge):
    """Keras's Maximum: the element-wise maximum of its inputs."""

    def _combine(self, inputs: list[torch.Tensor]) -> torch.Tensor:
        result = inputs[0]
        for x in inputs[1:]:
            result = torch.maximum(result, x)
        return result
''',
    "Minimum": '''
class Minimum(Merge):
    """Keras's Minimum: the element-wise minimum of its inputs."""

    def _combine(self, inputs: list[torch.Tensor]) -> torch.Tensor:
        result = inputs[0]
        for x in inputs[1:]:
            result = torch.minimum(result, x)
        return result
''',
    "Concatenate": '''
class Concatenate(nn.Module):
    """Keras's Concatenate on one axis (Keras's channel axis is dim 1 for NCHW images)."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        return torch.cat(inputs, dim=self.dim)
''',
    "glorot_uniform_": '''
def glorot_uniform_(tensor: torch.Tensor, fan_in: int, fan_out: int) -> None:
    """Keras's glorot_uniform: U(-limit, limit), limit = sqrt(6 / (fan_in + fan_out))."""
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    nn.init.uniform_(tensor, -limit, limit)
''',
    "glorot_normal_": '''
def glorot_normal_(tensor: torch.Tensor, fan_in: int, fan_out: int) -> None:
    """Keras's glorot_normal: a normal truncated at 2 std, std = sqrt(2 / (fan_in + fan_out))."""
    std = math.sqrt(2.0 / (fan_in + fan_out)) / 0.87962566103423978
    nn.init.trunc_normal_(tensor, 0.0, std, -2.0 * std, 2.0 * std)
''',
    "truncated_normal_": '''
def truncated_normal_(tensor: torch.Tensor, stddev: float, mean: float = 0.0) -> None:
    """Keras's truncated normal: N(mean, stddev) redrawn beyond 2 stddev of the mean."""
    nn.init.trunc_normal_(tensor, mean, stddev, mean - 2.0 * stddev, mean + 2.0 * stddev)
''',
    "he_uniform_": '''
def he_uniform_(tensor: torch.Tensor, fan_in: int) -> None:
    """Keras's he_uniform: U(-limit, limit), limit = sqrt(6 / fan_in)."""
    limit = math.sqrt(6.0 / fan_in)
    nn.init.uniform_(tensor, -limit, limit)
''',
    "he_normal_": '''
def he_normal_(tensor: torch.Tensor, fan_in: int) -> None:
    """Keras's he_normal: a normal truncated at 2 std, std = sqrt(2 / fan_in)."""
    std = math.sqrt(2.0 / fan_in) / 0.87962566103423978
    nn.init.trunc_normal_(tensor, 0.0, std, -2.0 * std, 2.0 * std)
''',
    "lecun_uniform_": '''
def lecun_uniform_(tensor: torch.Tensor, fan_in: int) -> None:
    """Keras's lecun_uniform: U(-limit, limit), limit = sqrt(3 / fan_in)."""
    limit = math.sqrt(3.0 / fan_in)
    nn.init.uniform_(tensor, -limit, limit)
''',
    "lecun_normal_": '''
def lecun_normal_(tensor: torch.Tensor, fan_in: int) -> None:
    """Keras's lecun_normal: a normal truncated at 2 std, std = sqrt(1 / fan_in)."""
    std = math.sqrt(1.0 / fan_in) / 0.87962566103423978
    nn.init.trunc_normal_(tensor, 0.0, std, -2.0 * std, 2.0 * std)
''',
}

# Keras initialiser -> how it is written: (function, takes fan_in, takes fan_out).
INITIALIZERS: dict[str, tuple[str, bool, bool]] = {
    "glorot_uniform": ("glorot_uniform_", True, True),
    "glorot_normal": ("glorot_normal_", True, True),
    "he_uniform": ("he_uniform_", True, False),
    "he_normal": ("he_normal_", True, False),
    "lecun_uniform": ("lecun_uniform_", True, False),
    "lecun_normal": ("lecun_normal_", True, False),
    "zeros": ("nn.init.zeros_", False, False),
    "ones": ("nn.init.ones_", False, False),
}
