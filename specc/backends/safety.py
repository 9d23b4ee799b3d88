"""The check every generated file passes before anything imports it.

Generation is already safe by construction (names through the identifier allowlist,
values only as the repr of plain literals); this is the independent second look: parse the
file with `ast` and accept only literals and names that specc's fixed vocabulary or the
spec itself accounts for, and only the framework imports the backend needs.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Iterator

from specc.backends.torch_helpers import HELPERS
from specc.errors import SpeccError
from specc.layers.initializers import CONFIG_TYPES
from specc.layers.registry import LAYER_TYPES
from specc.spec.load import LoadedSpec


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_TORCH_NAMES = _words("""
    __init__ self super build_model forward inputs x None torch nn F math Tensor Module init pad
    inf zeros_ ones_ Conv2d Linear BatchNorm1d BatchNorm2d LayerNorm MaxPool2d AvgPool2d
    AdaptiveAvgPool2d AdaptiveMaxPool2d Flatten Sequential Dropout ZeroPad2d ReLU ReLU6
    LeakyReLU ELU SELU GELU Sigmoid Hardsigmoid Tanh Softmax SiLU Softplus Identity relu relu6
    leaky_relu elu selu gelu sigmoid hardsigmoid tanh softmax silu softplus stride padding
    dilation groups bias eps momentum affine elementwise_affine dim value fan_in fan_out
    count_include_pad kernel_size max_value negative_slope threshold depth_multiplier weight
    depthwise pointwise Upsample scale_factor align_corners normal_ uniform_ constant_ orthogonal_ std a b val gain stddev mean module requires_grad_ train eval mode bool Hardswish hardswish Mish mish LogSoftmax log_softmax
""")

_KERAS_NAMES = _words("keras layers Input Model build_model inputs x shape name")

_IMPORTS = {
    "torch": {("import", "math", None), ("import", "torch", None), ("from", "torch", "nn"),
              ("from", "torch.nn", "functional")},
    "keras": {("import", "keras", None), ("from", "keras", "layers")},
}


class UnsafeGeneratedCode(SpeccError):
    """Generated source that does not pass the check (a specc bug, never user error)."""


def _helper_names() -> frozenset[str]:
    names: set[str] = set()
    for source in HELPERS.values():
        names |= set(_identifiers(ast.parse(source)))
    return frozenset(names)


def _vocabulary(backend: str) -> frozenset[str]:
    if backend == "torch":
        return _TORCH_NAMES | _helper_names()
    fields = {name for cls in LAYER_TYPES.values() for name in cls.model_fields}
    initializers = {name for cls in CONFIG_TYPES for name in cls.model_fields}
    initializers |= {cls.__name__ for cls in CONFIG_TYPES} | {"initializers"}
    return _KERAS_NAMES | frozenset(LAYER_TYPES) | frozenset(fields) | frozenset(initializers)


def _spec_strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _spec_strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _spec_strings(item)


def _spec_names(loaded: LoadedSpec) -> set[str]:
    """Names the spec accounts for: its layer and input names, their `_out` variants, and
    the model class made from its name."""
    spec = loaded.spec
    names = {spec.input.name, spec.name, *(layer.name for layer in spec.layers)}
    camel = "".join(part[:1].upper() + part[1:] for part in spec.name.split("_") if part)
    names |= {camel, f"{camel}Model", "Model"}
    return names


def _identifiers(tree: ast.AST) -> Iterator[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            yield node.id
        elif isinstance(node, ast.Attribute):
            yield node.attr
        elif isinstance(node, ast.FunctionDef | ast.ClassDef):
            yield node.name
        elif isinstance(node, ast.arg | ast.keyword) and node.arg is not None:
            yield node.arg


def _docstrings(tree: ast.Module) -> set[int]:
    """ids of the constant nodes that are docstrings (inert by position)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def check_generated(source: str, loaded: LoadedSpec, backend: str) -> None:
    """Refuse generated source with a literal or name the spec and specc do not account for."""
    where = f"generated {backend} source for {loaded.path.name}"
    try:
        tree = ast.parse(source)
    except SyntaxError as error:
        raise UnsafeGeneratedCode(f"{where} does not parse: {error.msg} (line {error.lineno})")
    allowed_strings = set(_spec_strings(loaded.spec.model_dump()))
    allowed_names = _vocabulary(backend) | _spec_names(loaded)
    allowed_names |= {f"{name}_out" for name in allowed_names} | {
        f"{name}_out{n}" for name in _spec_names(loaded) for n in range(2, 10)
    }
    docstrings = _docstrings(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            _check_import(node, backend, where)
        elif isinstance(node, ast.Constant) and id(node) not in docstrings:
            _check_constant(node, allowed_strings, where)
        elif isinstance(node, ast.JoinedStr | ast.Lambda | ast.Starred) and backend == "keras":
            raise UnsafeGeneratedCode(f"{where}: unexpected {type(node).__name__} (line {node.lineno})")
    for name in _identifiers(tree):
        if name not in allowed_names:
            raise UnsafeGeneratedCode(f"{where}: the name {name!r} is neither specc's nor the spec's")


def _check_import(node: ast.Import | ast.ImportFrom, backend: str, where: str) -> None:
    if isinstance(node, ast.Import):
        found = {("import", alias.name, None) for alias in node.names}
    else:
        found = {("from", node.module, alias.name) for alias in node.names}
    if not found <= _IMPORTS[backend]:
        raise UnsafeGeneratedCode(f"{where}: unexpected import on line {node.lineno}")


def _check_constant(node: ast.Constant, allowed_strings: set[str], where: str) -> None:
    value = node.value
    if value is None or value is Ellipsis or isinstance(value, bool | int):  # `...`: tuple[int, ...]
        return
    if isinstance(value, float) and math.isfinite(value):
        return
    if isinstance(value, str) and value in allowed_strings:
        return
    raise UnsafeGeneratedCode(
        f"{where}: the literal {value!r} on line {node.lineno} is not accounted for by the spec"
    )
