# The two commands a newcomer needs: `make demo` and `make test`.
# Each creates .venv and installs the project into it when missing.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.specc-installed

.PHONY: install demo test test-exhaustive lint bench mutants zoo clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[torch,keras,interop,dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m specc.demo

test: $(STAMP)
	$(BIN)/ruff check specc tests benchmarks
	$(BIN)/python -m pytest -n 2 -p no:cacheprovider

# The bad-data corpus as subprocesses beyond one case per attack class (make test runs those).
test-exhaustive: $(STAMP)
	$(BIN)/python -m pytest -n 2 -p no:cacheprovider -m exhaustive

lint: $(STAMP)
	$(BIN)/ruff check specc tests benchmarks

# Realistic one-line bugs in the training semantics and layer rules, each run against the
# tests that guard it (about 50 minutes on 2 busy cores); see tests/mutants.py.
mutants: $(STAMP)
	$(BIN)/python tests/mutants.py

# The quick benchmarks; `benchmarks/fuzz.py` (100,000 examples),
# `benchmarks/train_cpu.py small` (CIFAR-10 on the CPU) and `benchmarks/time_to_accuracy.py`
# (four 10-epoch CIFAR-10 trainings) take longer and run on their own.
bench: $(STAMP)
	$(BIN)/python benchmarks/validate_speed.py
	$(BIN)/python benchmarks/build_speed.py
	$(BIN)/python benchmarks/train_cpu.py alexnet
	$(BIN)/python benchmarks/export_inference.py

# All 40 keras.applications models: import, PyTorch port with the weights, compare; writes
# build/zoo.md (long: `make test` runs one model of each family).
zoo: $(STAMP)
	$(BIN)/python benchmarks/zoo.py --table build/zoo.md

clean:
	rm -rf build runs .pytest_cache .ruff_cache .hypothesis
