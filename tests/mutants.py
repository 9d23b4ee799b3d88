"""`make mutants`: realistic one-line bugs in the layer rules, the weight converter, the
schedule, the engines' loss and update, augmentation and normalisation, checkpoints and
resume; each applied to a copy of the repository, then the tests that guard it are run. A
mutant is killed when those tests fail.

    python tests/mutants.py            # every mutant (about 50 minutes on 2 busy cores)
    python tests/mutants.py --list     # what each mutant changes
    python tests/mutants.py schedule-never-decays torch-no-label-smoothing

Exit 0 when every mutant is killed, 1 when one survives (each is listed with what it
changed), 2 when the unmutated copy fails its tests or a mutant no longer applies.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Mutant:
    name: str
    path: str  # relative to the repository root
    original: str  # must occur exactly once in the file
    mutated: str
    tests: tuple[str, ...]  # pytest arguments selecting the tests that guard it


SCHEDULE = ("tests/test_schedule.py", "-k", "hand or short or monoton")
APPLIED_TORCH = ("tests/test_schedule.py", "-k", "applies and torch")
APPLIED_KERAS = ("tests/test_schedule.py", "-k", "applies and keras")
FLOPS = ("tests/test_flops.py",)
RULES = ("tests/test_layer_rules.py", "tests/test_specs.py")
AGREE = ("tests/test_engines_agree.py", "-k", "constant")
LOSS_TORCH = ("tests/test_train_recipe.py", "-k", "loss and torch")
LOSS_KERAS = ("tests/test_train_recipe.py", "-k", "loss and keras")
DECAY_TORCH = ("tests/test_train_recipe.py", "-k", "decay and torch")
DECAY_KERAS = ("tests/test_train_recipe.py", "-k", "decay and keras")
AUGMENT_TORCH = ("tests/test_train_recipe.py", "-k", "(crops or flips or unchanged) and torch")
AUGMENT_KERAS = ("tests/test_train_recipe.py", "-k", "(crops or flips or unchanged) and keras")
# The epoch plan is shared by both engines: its mutants run against both engines' tests.
AUGMENT_BOTH = ("tests/test_train_recipe.py", "-k", "crops or flips or unchanged")
NORMALISE_TORCH = ("tests/test_train_recipe.py", "-k", "statistics or (normalised and torch)")
NORMALISE_KERAS = ("tests/test_train_recipe.py", "-k", "statistics or (normalised and keras)")
RESUME_TORCH = ("tests/test_train_resume.py", "-k", "torch")
RESUME_KERAS = ("tests/test_train_resume.py", "-k", "keras")
CHECKPOINT = ("tests/test_checkpoint.py",)
PARITY_CONV = ("tests/test_parity.py", "-k", "example and (Conv2D or Separable)")
ROUND_TRIP = ("tests/test_backends.py", "-k", "round_trip")

SCHEDULE_PY = "specc/train/schedule.py"
COMMON_PY = "specc/train/common.py"
TORCH_PY = "specc/train/engine_torch.py"
KERAS_PY = "specc/train/engine_keras.py"
PLAN_PY = "specc/train/epoch_plan.py"

MUTANTS: tuple[Mutant, ...] = (
    # --- layer rules -------------------------------------------------------------------
    Mutant("conv-flops-multiply-add-once", "specc/layers/conv2d.py",
           "per_output = 2 * kh * kw * per_group", "per_output = kh * kw * per_group", FLOPS),
    Mutant("conv-flops-no-activation", "specc/layers/conv2d.py",
           "+ int(self.use_bias) + self.activation_flops()", "+ int(self.use_bias)", FLOPS),
    Mutant("separable-flops-ignore-multiplier", "specc/layers/separable_conv2d.py",
           "pointwise = 2 * channels * elements(output_shape)",
           "pointwise = 2 * input_shapes[0][-1] * elements(output_shape)", FLOPS),
    Mutant("depthwise-flops-no-bias", "specc/layers/depthwise_conv2d.py",
           "per_output = 2 * kh * kw + int(self.use_bias)", "per_output = 2 * kh * kw", FLOPS),
    Mutant("dense-flops-no-bias", "specc/layers/dense.py",
           "per_output = 2 * input_shapes[0][-1] + int(self.use_bias)",
           "per_output = 2 * input_shapes[0][-1]", FLOPS),
    Mutant("pooling-flops-per-input", "specc/layers/pooling.py",
           "return elements(output_shape) * pool[0] * pool[1]",
           "return elements(input_shapes[0])", FLOPS),
    Mutant("add-flops-per-input", "specc/layers/merge.py",
           "return self.flops_per_operand * (len(input_shapes) - 1) * elements(output_shape)",
           "return self.flops_per_operand * len(input_shapes) * elements(output_shape)", FLOPS),
    Mutant("layernorm-flops-like-batchnorm", "specc/layers/layer_normalization.py",
           "return 5 * super().flops(input_shapes, output_shape) // 2",
           "return super().flops(input_shapes, output_shape)", FLOPS),
    Mutant("dense-params-no-bias", "specc/layers/dense.py",
           "bias = self.units if self.use_bias else 0", "bias = 0", RULES),
    Mutant("same-padding-odd-pixel-first", "specc/layers/conv_math.py",
           "return total // 2, total - total // 2", "return total - total // 2, total // 2",
           PARITY_CONV),
    Mutant("batchnorm-momentum-not-converted", "specc/layers/batch_normalization.py",
           '"momentum": round(1.0 - self.momentum, 12)', '"momentum": self.momentum', AGREE),
    # --- the converter -------------------------------------------------------------------
    Mutant("convert-conv-kernel-height-width-swapped", "specc/backends/convert.py",
           "return array.transpose(3, 2, 0, 1)", "return array.transpose(3, 2, 1, 0)",
           PARITY_CONV),
    Mutant("convert-back-conv-kernel-height-width-swapped", "specc/backends/convert.py",
           "return array.transpose(2, 3, 1, 0)", "return array.transpose(3, 2, 1, 0)",
           ROUND_TRIP),
    # --- the schedule ----------------------------------------------------------------------
    Mutant("schedule-never-decays", SCHEDULE_PY,
           "return peak + (final - peak) * progress  # onecycle",
           "return peak  # onecycle", SCHEDULE),
    Mutant("schedule-warmup-overshoots", SCHEDULE_PY,
           "return peak * (start + (1.0 - start) * step / warmup)",
           "return peak * (start + step / warmup)", SCHEDULE),
    Mutant("schedule-warmup-not-capped", SCHEDULE_PY,
           "return min(steps, self.total_steps // 3)", "return steps", SCHEDULE),
    Mutant("schedule-cosine-upside-down", SCHEDULE_PY,
           "0.5 * (1.0 + math.cos(math.pi * progress))",
           "0.5 * (1.0 - math.cos(math.pi * progress))", SCHEDULE),
    Mutant("schedule-decay-one-step-early", SCHEDULE_PY,
           "progress = min((step - warmup) / decay_steps, 1.0)",
           "progress = min((step - warmup + 1) / decay_steps, 1.0)", SCHEDULE),
    Mutant("schedule-constant-ends-at-final", SCHEDULE_PY,
           'if recipe.name == "constant":\n            return peak',
           'if recipe.name == "constant":\n            return final', SCHEDULE),
    Mutant("torch-applies-next-steps-rate", TORCH_PY,
           "lr = self.schedule.lr(self.global_step)",
           "lr = self.schedule.lr(self.global_step + 1)", APPLIED_TORCH),
    Mutant("keras-applies-rate-of-step-in-epoch", KERAS_PY,
           "learning_rate.assign(self.schedule.lr(self.global_step))",
           "learning_rate.assign(self.schedule.lr(self.step_in_epoch))", APPLIED_KERAS),
    Mutant("metrics-row-reports-next-rate", COMMON_PY,
           '"lr": self.schedule.lr(max(self.global_step - 1, 0))',
           '"lr": self.schedule.lr(self.global_step)', APPLIED_TORCH),
    # --- the engines' loss and update ---------------------------------------------------
    Mutant("torch-no-label-smoothing", TORCH_PY,
           "label_smoothing=self.ctx.recipe.label_smoothing)", "label_smoothing=0.0)",
           LOSS_TORCH),
    Mutant("torch-loss-on-probabilities", TORCH_PY,
           "setattr(model, logits_layer, nn.Identity())\n        if self.device",
           "setattr(model, logits_layer, nn.Softmax(dim=1))\n        if self.device",
           LOSS_TORCH),
    Mutant("keras-no-label-smoothing", KERAS_PY,
           "from_logits=True, label_smoothing=recipe.label_smoothing)",
           "from_logits=True, label_smoothing=0.0)", LOSS_KERAS),
    Mutant("keras-loss-on-probabilities", KERAS_PY,
           "from_logits=True, label_smoothing", "from_logits=False, label_smoothing",
           LOSS_KERAS),
    Mutant("torch-decay-on-biases-and-norms", TORCH_PY,
           "decay_norm_and_bias or parameter.ndim > 1", "decay_norm_and_bias or parameter.ndim >= 1",
           DECAY_TORCH),
    Mutant("torch-decay-norm-and-bias-ignored", TORCH_PY,
           "(decay if decay_norm_and_bias or parameter.ndim > 1 else no_decay)",
           "(decay if parameter.ndim > 1 else no_decay)", DECAY_TORCH),
    Mutant("keras-decay-on-biases-and-norms", KERAS_PY,
           "or len(v.shape) > 1) else 0.0", "or len(v.shape) >= 1) else 0.0", DECAY_KERAS),
    Mutant("keras-decay-not-added", KERAS_PY,
           "grads = [g + d * scale * v if d else g", "grads = [g if d else g", DECAY_KERAS),
    Mutant("torch-not-nesterov", TORCH_PY,
           "nesterov=recipe.nesterov and recipe.momentum > 0", "nesterov=False", AGREE),
    Mutant("keras-not-nesterov", KERAS_PY,
           "nesterov=recipe.optimizer.nesterov)", "nesterov=False)", AGREE),
    Mutant("keras-momentum-dropped", KERAS_PY,
           "momentum=recipe.optimizer.momentum,", "momentum=0.0,", AGREE),
    # --- augmentation and normalisation ---------------------------------------------------
    Mutant("plan-crop-never-last-offset", PLAN_PY,
           "dy = rng.integers(0, 2 * padding + 1, (count, 1))",
           "dy = rng.integers(0, 2 * padding, (count, 1))", AUGMENT_BOTH),
    Mutant("plan-flip-ignores-recipe", PLAN_PY,
           "cols = np.where(flips & flip,", "cols = np.where(flips,", AUGMENT_BOTH),
    Mutant("plan-columns-shifted-by-row-offset", PLAN_PY,
           "width - 1 - col_range, col_range) + dx", "width - 1 - col_range, col_range) + dy",
           AUGMENT_BOTH),
    Mutant("plan-same-every-epoch", PLAN_PY,
           "rng = np.random.default_rng(seed * 1_000_003 + epoch)",
           "rng = np.random.default_rng(seed)", AUGMENT_BOTH),
    Mutant("keras-labels-not-shuffled-with-images", KERAS_PY,
           "tf.constant(ctx.data.y_train[index]),",
           "tf.constant(ctx.data.y_train[start:start + self.batch_size]),", LOSS_KERAS),
    Mutant("stats-variance-without-mean", COMMON_PY,
           "np.maximum(squares / len(pixels) - mean * mean, 1e-12)",
           "np.maximum(squares / len(pixels), 1e-12)", NORMALISE_TORCH),
    Mutant("torch-normalisation-shift-unscaled", TORCH_PY,
           "torch.tensor(-mean / std, dtype", "torch.tensor(-mean, dtype", NORMALISE_TORCH),
    Mutant("keras-normalisation-without-255", KERAS_PY,
           "(images.astype(np.float32) / 255.0 - mean) / std",
           "(images.astype(np.float32) - mean) / std", NORMALISE_KERAS),
    # --- checkpoints and resume -------------------------------------------------------
    Mutant("resume-restarts-epoch-at-step-0", COMMON_PY,
           'self.step_in_epoch = int(meta["step_in_epoch"])', "self.step_in_epoch = 0",
           RESUME_TORCH),
    Mutant("checkpoint-forgets-step-in-epoch", COMMON_PY,
           '"epoch": self.epoch, "step_in_epoch": self.step_in_epoch,',
           '"epoch": self.epoch, "step_in_epoch": 0,', RESUME_KERAS),
    Mutant("torch-resume-loses-rng", TORCH_PY,
           'restore_rng(payload_state["rng"], self.device)', "pass", RESUME_TORCH),
    Mutant("torch-resume-loses-running-loss", TORCH_PY,
           'self.loss_sum.copy_(payload_state["accumulators"]["loss_sum"])', "pass",
           RESUME_TORCH),
    Mutant("keras-resume-loses-optimizer", KERAS_PY,
           'assign_variables(self.optimizer.variables, arrays, "optimizer")', "pass",
           RESUME_KERAS),
    Mutant("checkpoint-checksum-not-checked", "specc/train/checkpoint.py",
           "if hashlib.sha256(payload).digest() != digest:", "if False:", CHECKPOINT),
)


def copy_repository(destination: Path) -> None:
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout.splitlines()
    for name in files:
        source = ROOT / name
        if source.is_file():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def run_tests(copy: Path, tests: tuple[str, ...], timeout: int) -> tuple[bool, float]:
    """(passed, seconds) of the selected tests in the copy; a timeout counts as failed."""
    env = {**os.environ, "PYTHONPATH": str(copy), "PYTHONDONTWRITEBYTECODE": "1"}
    started = time.monotonic()
    try:
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-n", "0",
             *tests], cwd=copy, env=env, capture_output=True, text=True, timeout=timeout,
            check=False)
    except subprocess.TimeoutExpired:
        return False, time.monotonic() - started
    return result.returncode == 0, time.monotonic() - started


def apply(copy: Path, mutant: Mutant) -> str:
    """Write the mutated file into the copy; return the original text to restore."""
    path = copy / mutant.path
    text = path.read_text()
    if text.count(mutant.original) != 1:
        raise SystemExit(f"{mutant.path}: mutant {mutant.name!r} no longer applies (its "
                         f"original text occurs {text.count(mutant.original)} times)")
    path.write_text(text.replace(mutant.original, mutant.mutated))
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="mutants to run (default: all)")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    parser.add_argument("--timeout", type=int, default=900, help="seconds per test run")
    args = parser.parse_args(argv)
    unknown = set(args.names) - {m.name for m in MUTANTS}
    if unknown:
        print(f"mutants: unknown mutant(s) {sorted(unknown)}; see --list", file=sys.stderr)
        return 2
    chosen = [m for m in MUTANTS if not args.names or m.name in args.names]
    if args.list:
        for mutant in chosen:
            print(f"{mutant.name}: {mutant.path}: {mutant.original!r} -> {mutant.mutated!r}")
        return 0
    with tempfile.TemporaryDirectory(prefix="specc-mutants-") as folder:
        copy = Path(folder)
        copy_repository(copy)
        for mutant in chosen:  # every mutant still applies before anything runs
            (copy / mutant.path).write_text(apply(copy, mutant))
        baseline = sorted({m.tests for m in chosen})
        for tests in baseline:
            passed, _ = run_tests(copy, tests, args.timeout)
            if not passed:
                print(f"mutants: the unmutated tests fail: pytest {' '.join(tests)}",
                      file=sys.stderr)
                return 2
        survivors = []
        for mutant in chosen:
            original = apply(copy, mutant)
            try:
                passed, seconds = run_tests(copy, mutant.tests, args.timeout)
            finally:
                (copy / mutant.path).write_text(original)
            verdict = "SURVIVED" if passed else "killed"
            print(f"{verdict:8} {mutant.name} ({seconds:.0f} s: pytest {' '.join(mutant.tests)})",
                  flush=True)
            if passed:
                survivors.append(mutant)
    print(f"\n{len(chosen) - len(survivors)} of {len(chosen)} mutants killed")
    for mutant in survivors:
        print(f"survived: {mutant.name}: {mutant.path}: {mutant.original!r} -> "
              f"{mutant.mutated!r}")
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
