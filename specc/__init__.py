"""specc: a declarative model-spec compiler.

The pipeline, in the order data flows through it:

    specc.spec      the spec language: YAML with positions -> validated pydantic models
    specc.layers    the layer registry: one module per layer type (rules and emitters)
    specc.graph     inference over the graph of named layers (shapes, params, FLOPs)
    specc.backends  Keras and PyTorch code generation, the build gate, weight conversion
    specc.train     data, training, evaluation, run folders
    specc.cli       the `specc` command
"""

__version__ = "0.1.0"
