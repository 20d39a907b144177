# README commands map one to one onto these targets.
VENV ?= .venv
PY := $(VENV)/bin/python
QUESTION ?= Which department has the highest average salary?
SCHEMA ?= examples/company.sql
RECIPE ?= training/configs/cpu-smoke.yaml
MODEL ?= packaged
DATA ?= ../shared/data/spider_dev/spider_dev.jsonl
LIMIT ?= 200
OUT ?= runs/eval
QUANT ?= f16
AGREE ?= transformers:float32,llama.cpp:f16,llama.cpp:q8_0

.PHONY: app cli test test-slow test-all bench bench-app bench-backends bench-train synth train evaluate export clean

$(VENV)/.installed: requirements.txt requirements-serve.txt scripts/install.sh
	VENV=$(VENV) bash scripts/install.sh requirements.txt
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	VENV=$(VENV) bash scripts/install.sh requirements-dev.txt
	touch $@

## app: the web app on http://127.0.0.1:7860 with the packaged model (first run installs and converts it)
app: $(VENV)/.installed
	$(PY) app.py --host 127.0.0.1

## cli: answer one question from the command line
cli: $(VENV)/.installed
	$(PY) -m nl2sql "$(QUESTION)" --schema $(SCHEMA) --run --verbose

## test: the fast, offline test suite
test: $(VENV)/.installed-dev
	$(PY) -m pytest -q -m "not slow" --durations=15

## test-slow: the real-model tests (the packaged model; a few minutes on 2 cores)
test-slow: $(VENV)/.installed-dev
	$(PY) -m pytest -q -m slow

test-all: test test-slow

## bench: generation speed of the packaged model (tokens/s, p50/p95) for batch 1 and 8, fp32 and bf16
bench: $(VENV)/.installed
	$(PY) -m benchmarks.generate

## bench-app: the app's generate_sql latency (p50/p95 over 20 calls) and cold start
bench-app: $(VENV)/.installed
	$(PY) -m benchmarks.app

## bench-backends: transformers vs llama.cpp (GGUF F32/F16/Q8_0/Q4_1) vs int8: speed, memory, same SQL as fp32
bench-backends: $(VENV)/.installed
	$(PY) -m benchmarks.backends --agree 200 --agree-candidates $(AGREE) --app 20 --out runs/bench-backends.json

## bench-train: training tokens/s and s/step, fp32 vs bf16, full vs LoRA
bench-train: $(VENV)/.installed
	$(PY) -m training.bench

## synth: 100k synthetic rows (train domains) into runs/synth-train.jsonl
synth: $(VENV)/.installed
	$(PY) -m nl2sql.synth --n 100000 --split train --out runs/synth-train.jsonl

## train: fine-tune with a recipe (RECIPE=training/configs/lora.yaml for the shipped kind of model)
train: $(VENV)/.installed
	$(PY) -m training.train --config $(RECIPE)

## evaluate: score MODEL on DATA (first LIMIT rows) into OUT
evaluate: $(VENV)/.installed
	$(PY) -m eval.evaluate --model $(MODEL) --data $(DATA) --limit $(LIMIT) --out $(OUT)

## export: MODEL as GGUF (QUANT) into the cache, where the llama.cpp backend finds it
export: $(VENV)/.installed
	$(PY) -m nl2sql.export --model $(MODEL) --quant $(QUANT)

clean:
	rm -rf $(VENV) .pytest_cache
