"""Importing Keras (and so TensorFlow) without its start-up chatter on stderr."""

from __future__ import annotations

import os
import re
import sys
import tempfile

# TensorFlow's start-up chatter: absl's banner and info lines (oneDNN, CPU features) that are
# written before its logging is configured, so TF_CPP_MIN_LOG_LEVEL cannot silence them.
TENSORFLOW_CHATTER = re.compile(
    r"WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    r"|I\d{4} [\d:.]+ +\d+ [\w.]+:\d+\] "
    r"|To enable the following instructions: "
)


def quiet_tensorflow() -> None:
    """Import Keras (and TensorFlow) without the start-up chatter that would hide specc's own
    output. Everything else TensorFlow writes to stderr while importing is passed on."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if "keras" in sys.modules:
        return
    sys.stderr.flush()
    saved_stderr = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import keras  # noqa: F401
        finally:
            os.dup2(saved_stderr, 2)
            os.close(saved_stderr)
            captured.seek(0)
            lines = captured.read().decode("utf-8", "replace").splitlines(keepends=True)
            sys.stderr.write("".join(line for line in lines if not TENSORFLOW_CHATTER.match(line)))
