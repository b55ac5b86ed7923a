# Two commands for a fresh clone: `make run` (the default study) and `make test` (all tests).
# Each creates/updates .venv idempotently; only Python >= 3.11 and PyPI are needed.
# Another study: `make run CONFIG=configs/full.yaml` (also for `make report` and `make dag`).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.xlt-installed
CORES ?= 2
CONFIG ?=
CONFIGFILE := $(if $(CONFIG),--configfile $(CONFIG))

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

# Resumable: a run that was killed left its lock behind; xlt.resume removes it when no Snakemake
# process works here any more, and profiles/default recomputes the jobs that were running
# (--rerun-incomplete). After a crash just run `make run` again (docs/recovery.md).
run: $(STAMP)
	$(BIN)/python -m xlt.resume
	$(BIN)/snakemake --cores $(CORES) all $(CONFIGFILE)
	@$(MAKE) --no-print-directory report

# the HTML report of a finished run (make run builds it too): every table and figure, captioned
report: $(STAMP)
	$(BIN)/snakemake --report results/report.html $(CONFIGFILE) \
	  || { echo "make report: the report shows a finished run; run make run$(if $(CONFIG), CONFIG=$(CONFIG)) first"; exit 1; }
	@echo "open results/report.html in a web browser"

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

# the rule graph as results/rulegraph.svg; graphviz's `dot` draws it (the report shows the same
# graph without graphviz)
dag: $(STAMP)
	@command -v dot >/dev/null || { echo "make dag: graphviz's dot is not installed; install it with"; \
	  echo "  sudo apt-get install -y graphviz   (macOS: brew install graphviz)"; \
	  echo "or see the rule graph in the report (make report, then open results/report.html)"; exit 1; }
	@mkdir -p results
	$(BIN)/snakemake --rulegraph $(CONFIGFILE) > results/rulegraph.dot.tmp \
	  && mv results/rulegraph.dot.tmp results/rulegraph.dot || { rm -f results/rulegraph.dot.tmp; exit 1; }
	dot -Tsvg results/rulegraph.dot -o results/rulegraph.svg
	@echo "wrote results/rulegraph.svg"

clean:
	rm -rf results logs benchmarks .snakemake
