# Two commands for a fresh clone: `make run` (the default study) and `make test` (all tests).
# Each creates/updates .venv idempotently; only Python >= 3.11 and PyPI are needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.xlt-installed
CORES ?= 2

.PHONY: install run test lint format bench bench-lms-control bench-gpu report dag clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "xlt needs Python >= 3.11")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	# torch first and exactly pinned: any other spec pulls a multi-GB CUDA build
	$(BIN)/python -m pip install --quiet "torch==2.13.0"
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/snakemake --cores $(CORES) all
	$(BIN)/snakemake --report results/report.html

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/snakefmt --check Snakefile rules
	$(BIN)/snakemake --lint

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
	$(BIN)/snakefmt Snakefile rules

bench: $(STAMP)
	$(BIN)/python -m xlt.bench

# LMS positive control: the paper's scorer on planted pools with and without signal (SIGNALS adds
# the model- and language-feature controls: eng, pivot, target, fusion, lang)
SIGNALS ?= shared,none
bench-lms-control: $(STAMP)
	$(BIN)/python -m xlt.bench --lms-control --signals $(SIGNALS)

# fine-tuning throughput of one paper-size (mBERT-shaped) candidate, on CUDA when there is one
bench-gpu: $(STAMP)
	$(BIN)/python -m xlt.bench --candidate-step --size paper --precision bf16 --steps 50

dag: $(STAMP)
	$(BIN)/snakemake --rulegraph | dot -Tsvg > results/rulegraph.svg

clean:
	rm -rf results logs benchmarks .snakemake
