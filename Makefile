# Two entry points for a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench eval clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/qa-pipeline run samples/calls --out out/demo
	$(BIN)/qa-pipeline eval samples/calls --results out/demo/results.jsonl

test: $(STAMP)
	$(BIN)/ruff check qa_pipeline tests bench flows testing
	$(BIN)/mypy
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check qa_pipeline tests bench flows testing
	$(BIN)/ruff format --check qa_pipeline tests bench flows testing
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/rules_throughput.py
	$(BIN)/python bench/flow_overhead.py

eval: $(STAMP)
	$(BIN)/qa-pipeline eval ../shared/dev-calls --noisy

clean:
	rm -rf $(VENV) out .mypy_cache .pytest_cache .ruff_cache
