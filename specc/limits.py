"""Hard limits that keep every input bounded in time and memory.

Input limits (file size, YAML nesting, number size, layer count) apply while the spec is
read; model limits (parameters, activation memory) apply after inference and before any
framework is imported, so an absurd model is refused before anything allocates it.
"""

from __future__ import annotations

from collections.abc import Iterable

from specc.errors import LayerError, Position, SpeccError

MAX_SPEC_BYTES = 1 << 20  # 1 MiB; the largest spec in specs/ is a few KiB
MAX_NESTING = 32  # YAML containers inside containers; a spec needs 5
MAX_NUMBER_DIGITS = 64  # an integer literal longer than this is an error, not a bignum
MAX_YAML_VALUES = 50_000  # every scalar, list and mapping; alexnet.yaml has about 350
MAX_LAYERS = 5_000  # ResNet-152 has about 500

MAX_TOTAL_PARAMS = 2_000_000_000
MAX_ACTIVATION_BYTES = 4 << 30  # per example, float32, summed over every layer's output
BYTES_PER_ELEMENT = 4


def check_model_limits(layers: Iterable[tuple[int, int, int]], input_elements: int) -> None:
    """Refuse a model over the parameter or activation-memory limit.

    ``layers`` yields (index, total params, output elements) in graph order. Raises
    :class:`ModelLimitError` naming the first layer at which a running total crosses a limit.
    """
    params = 0
    activation_bytes = input_elements * BYTES_PER_ELEMENT
    if activation_bytes > MAX_ACTIVATION_BYTES:
        raise ModelLimitError(None, _activation_message(activation_bytes, "the input alone"))
    for index, layer_params, output_elements in layers:
        params += layer_params
        if params > MAX_TOTAL_PARAMS:
            raise ModelLimitError(
                index,
                f"the model reaches {params:,} parameters at this layer, over specc's limit "
                f"of {MAX_TOTAL_PARAMS:,}",
            )
        activation_bytes += output_elements * BYTES_PER_ELEMENT
        if activation_bytes > MAX_ACTIVATION_BYTES:
            raise ModelLimitError(index, _activation_message(activation_bytes, "this layer"))


def _activation_message(total: int, where: str) -> str:
    return (
        f"activations reach {total:,} bytes per example (float32) at {where}, over specc's "
        f"limit of {MAX_ACTIVATION_BYTES:,} bytes ({MAX_ACTIVATION_BYTES >> 30} GiB)"
    )


class ModelLimitError(LayerError):
    """A model over a limit; ``index`` is the layer that crosses it (None: the input)."""

    def __init__(self, index: int | None, message: str) -> None:
        super().__init__(message)
        self.index = index


def file_too_large(size: int, file: str) -> SpeccError:
    return SpeccError(
        f"file is {size:,} bytes; a spec is at most {MAX_SPEC_BYTES:,} bytes "
        f"({MAX_SPEC_BYTES >> 20} MiB)",
        file=file,
        position=Position(1, 1),
    )
