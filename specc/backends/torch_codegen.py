"""PyTorch source from a spec: an nn.Module with one submodule per spec layer, named alike.

Tensors are NCHW where the spec's shape is (H, W, C); other ranks are as in Keras. Every
spec layer is a submodule (even Flatten, Activation and Add), so forward hooks see each
layer's output and weights map to Keras's by layer name.
"""

from __future__ import annotations

import re

from specc.backends.source import (
    class_name,
    header_docstring,
    layer_error,
    output_variables,
    unsupported,
)
from specc.backends.torch_helpers import HELPERS, INITIALIZERS
from specc.graph import LayerInfo
from specc.layers.emit import (
    Code,
    InitCall,
    TorchEmit,
    UnsupportedByBackend,
    call,
    ident,
    lit,
    torch_activation_call,
)
from specc.layers.initializers import torch_initializer
from specc.spec.load import LoadedSpec

# nn.Module's own attributes: a submodule named like one of them would be shadowed.
MODULE_ATTRIBUTES = frozenset({
    "T_destination", "add_module", "apply", "bfloat16", "buffers", "call_super_init",
    "children", "compile", "cpu", "cuda", "double", "dump_patches", "eval", "extra_repr",
    "float", "forward", "get_buffer", "get_extra_state", "get_parameter", "get_submodule",
    "half", "ipu", "load_state_dict", "modules", "mtia", "named_buffers", "named_children",
    "named_modules", "named_parameters", "parameters", "register_backward_hook",
    "register_buffer", "register_forward_hook", "register_forward_pre_hook",
    "register_full_backward_hook", "register_full_backward_pre_hook",
    "register_load_state_dict_post_hook", "register_load_state_dict_pre_hook",
    "register_module", "register_parameter", "register_state_dict_post_hook",
    "register_state_dict_pre_hook", "requires_grad_", "set_extra_state", "set_submodule",
    "share_memory", "state_dict", "to", "to_empty", "train", "training", "type", "xpu",
    "zero_grad",
})

# Module-level names the generated file uses; a forward variable must not shadow them.
FILE_NAMES = frozenset({"math", "torch", "nn", "F", "self", "build_model", *HELPERS})

INPUT_VARIABLE = "inputs"


def torch_emits(loaded: LoadedSpec) -> list[tuple[LayerInfo, TorchEmit]]:
    """Every layer's PyTorch form; a layer PyTorch cannot express is one clear error line."""
    emits = []
    for info in loaded.info.layers:
        layer = info.layer
        if layer.name in MODULE_ATTRIBUTES or layer.name.startswith("_"):
            raise layer_error(
                loaded, info.index, "the torch backend cannot use this name (torch.nn.Module "
                "has an attribute of that name); rename the layer",
            )
        try:
            emits.append((info, layer.torch_emit(info)))
        except UnsupportedByBackend as error:
            raise unsupported(loaded, info.index, "torch", error) from None
    return emits


def generate_torch(loaded: LoadedSpec) -> str:
    """The whole generated file, deterministic for a given spec text."""
    emits = torch_emits(loaded)
    model_class = class_name(loaded.spec.name, FILE_NAMES)
    variables = output_variables(loaded.info, INPUT_VARIABLE, FILE_NAMES | {model_class})

    init_lines = [f"self.{ident(info.layer.name)} = {emit.module}" for info, emit in emits]
    initialiser_lines = [
        line for info, emit in emits for line in _initialiser_lines(info.layer.name, emit.init)
    ]
    if initialiser_lines:
        init_lines += ["", "# Keras's initialisers, with the fans Keras computes", *initialiser_lines]
    frozen = [info.layer.name for info, _ in emits
              if not info.layer.trainable and info.params.total > 0]
    if frozen:
        init_lines += ["", "# Frozen layers (trainable: false): training leaves them unchanged",
                       f"for module in {_modules_tuple(frozen)}:",
                       "    module.requires_grad_(False)"]
    forward_lines = [_forward_line(info, emit, variables) for info, emit in emits]
    forward_lines.append(f"return {variables[loaded.spec.layers[-1].name]}")
    inference_only = [info.layer.name for info, _ in emits
                      if not info.layer.trainable and info.layer.frozen_runs_in_inference]

    body = "\n".join([
        f"class {model_class}(nn.Module):",
        f'    """{_class_docstring(loaded)}"""',
        "",
        "    def __init__(self) -> None:",
        "        super().__init__()",
        *_indent(init_lines, 2),
        "",
        f"    def forward(self, {INPUT_VARIABLE}: torch.Tensor) -> torch.Tensor:",
        *_indent(forward_lines, 2),
        "",
        *_indent(_train_override(inference_only), 1),
        "",
        f"def build_model() -> {model_class}:",
        f"    return {model_class}()",
    ])
    helpers = [HELPERS[name].strip() for name in _helpers_used(emits, body)]
    definitions = "\n\n\n".join([*helpers, body])
    header = header_docstring(loaded, "PyTorch", "Tensors are NCHW; the spec's shapes are (H, W, C).")
    return header + "\n" + _imports(definitions) + "\n\n\n" + definitions + "\n"


def _modules_tuple(names: list[str]) -> str:
    return "(" + ", ".join(f"self.{ident(name)}" for name in names) + ("," if len(names) == 1 else "") + ")"


def _train_override(names: list[str]) -> list[str]:
    """`train()` keeping frozen BatchNormalization layers in inference mode, as Keras 3 does."""
    if not names:
        return []
    return [
        "def train(self, mode: bool = True) -> nn.Module:",
        "    super().train(mode)",
        "    # Frozen BatchNormalization runs in inference mode (moving statistics), as in Keras 3",
        f"    for module in {_modules_tuple(names)}:",
        "        module.eval()",
        "    return self",
        "",
    ]


def _class_docstring(loaded: LoadedSpec) -> str:
    shape = torch_shape(tuple(loaded.spec.input.shape))
    return f"Takes a batch of shape (N, {', '.join(str(d) for d in shape)})."


def torch_shape(shape: tuple[int, ...]) -> tuple[int, ...]:
    """The spec's channels-last shape (batch excluded) as PyTorch holds it: (H, W, C) -> (C, H, W)."""
    return (shape[2], shape[0], shape[1]) if len(shape) == 3 else shape


def _forward_line(info: LayerInfo, emit: TorchEmit, variables: dict[str, str]) -> str:
    operands = ", ".join(variables[name] for name in info.input_names)
    if emit.pad is not None:
        value = ", value=-torch.inf" if emit.pad_value == "-inf" else ""
        operands = f"F.pad({operands}, {lit(emit.pad)}{value})"
    expression = f"self.{ident(info.layer.name)}({operands})"
    if emit.activation is not None:
        expression = torch_activation_call(emit.activation, len(info.output_shape), expression)
    return f"{variables[info.layer.name]} = {expression}"


def _initialiser_lines(layer_name: str, calls: tuple[InitCall, ...]) -> list[str]:
    lines = []
    for init in calls:
        parameter = ".".join(ident(part) for part in init.parameter.split("."))
        target = Code(f"self.{ident(layer_name)}.{parameter}")
        if isinstance(init.initializer, str):
            function, takes_fan_in, takes_fan_out = INITIALIZERS[init.initializer]
            fans = {"fan_in": init.fan_in} if takes_fan_in else {}
            fans |= {"fan_out": init.fan_out} if takes_fan_out else {}
            lines.append(call(function, target, **fans))
        else:
            function, arguments = torch_initializer(init.initializer, init.fan_in, init.fan_out)
            lines.append(call(function, target, **arguments))
    return lines


def _helpers_used(emits: list[tuple[LayerInfo, TorchEmit]], body: str) -> list[str]:
    wanted = {name for _, emit in emits for name in emit.helpers}
    wanted |= {name for name in HELPERS if re.search(rf"\b{re.escape(name)}\(", body)}
    return [name for name in HELPERS if name in wanted]  # the table's order: deterministic


def _imports(code: str) -> str:
    lines = ["import math", ""] if re.search(r"\bmath\.", code) else []
    lines += ["import torch", "from torch import nn"]
    if re.search(r"\bF\.", code):
        lines.append("from torch.nn import functional as F")
    return "\n".join(lines)


def _indent(lines: list[str], levels: int) -> list[str]:
    pad = "    " * levels
    return [pad + line if line else "" for line in lines]
