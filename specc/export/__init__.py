"""`specc export`: a spec's model with its trained weights, in a format deployment reads.

Every export starts from the generated PyTorch model holding the weights (a PyTorch
checkpoint's directly, a Keras checkpoint's through `specc.backends.convert`), puts the
recipe's input normalization in front of it and keeps the spec's final activation, then
writes ONNX, `.keras`, a PyTorch state dict with its source, or safetensors.
"""
