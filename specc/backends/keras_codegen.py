"""Keras source from a spec: the functional API, one line per layer, Keras's own names."""

from __future__ import annotations

from specc.backends.source import header_docstring, output_variables, unsupported
from specc.layers.emit import UnsupportedByBackend, call, ident
from specc.spec.load import LoadedSpec

FILE_NAMES = frozenset({"keras", "layers", "build_model"})
INPUT_VARIABLE = "inputs"


def generate_keras(loaded: LoadedSpec) -> str:
    """The whole generated file, deterministic for a given spec text."""
    spec = loaded.spec
    variables = output_variables(loaded.info, INPUT_VARIABLE, FILE_NAMES)
    input_call = call("keras.Input", shape=tuple(spec.input.shape), name=spec.input.name)
    lines = [f"{INPUT_VARIABLE} = {input_call}"]
    for info in loaded.info.layers:
        layer = info.layer
        try:
            constructor = layer.keras_layer()
        except UnsupportedByBackend as error:
            raise unsupported(loaded, info.index, "keras", error) from None
        operands = [variables[name] for name in info.input_names]
        operand = operands[0] if layer.arity == 1 else f"[{', '.join(operands)}]"
        lines.append(f"{variables[layer.name]} = {constructor}({operand})")
    output = variables[spec.layers[-1].name]
    lines.append(f"return keras.Model({INPUT_VARIABLE}, {output}, name={ident(spec.name)!r})")
    body = "\n".join(f"    {line}" for line in lines)
    return (
        header_docstring(loaded, "Keras")
        + "\nimport keras\nfrom keras import layers\n\n\n"
        + "def build_model() -> keras.Model:\n"
        + body
        + "\n"
    )
