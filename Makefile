# The front door. `make help` lists the targets; every target bootstraps its own virtual environment.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
CHECKOV_VENV := .venv-checkov
CHECKOV_VERSION := 3.3.30
SEEDS := seedcode/modelbuild seedcode/modeldeploy
PYTEST_FLAGS ?=
# The tests run in parallel (pytest-xdist). Most of their time is spent waiting on the stand-in's builds,
# pipelines and endpoints, so more workers than cores keeps a 2-core machine busy; TEST_WORKERS=0 runs them
# in one process.
TEST_WORKERS ?= 4
# Every CloudFormation template the project ships: the rendered products and the seed's own.
CFN_TEMPLATES = $(wildcard templates/*.yaml seedcode/modeldeploy/endpoint-config-template.yml)

.PHONY: help venv test lint templates architecture preview seed-zips demo standin bench checkov lock dist clean

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  make %-11s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# requirements/dev.txt is resolved for Python 3.11 (x86_64 Linux wheels): any other Python fails half-way.
$(STAMP): requirements/dev.txt setup.cfg pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null || { \
	  echo "make: $(PYTHON) is $$($(PYTHON) --version 2>&1 || echo missing); .venv needs Python 3.11." >&2; \
	  echo "Fix: install Python 3.11 and run make PYTHON=python3.11 $(or $(MAKECMDGOALS),venv)" >&2; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --require-hashes -r requirements/dev.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $(STAMP)

venv: $(STAMP) ## Create .venv with the pinned requirements

test: $(STAMP) ## Run every test: the project's and each seed repository's own
	$(PY) -m pytest -n $(TEST_WORKERS) --dist worksteal $(PYTEST_FLAGS) tests
	@for seed in $(SEEDS); do \
	  if [ -d $$seed/tests ]; then (cd $$seed && ../../$(PY) -m pytest -n $(TEST_WORKERS) $(PYTEST_FLAGS)) || exit 1; fi; \
	done

# mypy's cache is kept per user, so a fresh clone checks only what differs (mypy re-validates each cached
# module by its content hash when the path differs); without it, mypy spends most of lint on the libraries.
MYPY_CACHE_DIR ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/sm-mlops/mypy
export MYPY_CACHE_DIR

lint: $(STAMP) ## ruff, mypy, asset manifest equals git, templates/ equal a fresh render, cfn-lint on every rendered and seed template
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	@# cfn-lint runs on the second core while mypy runs; its output follows mypy's, and either failing fails lint
	@cfn_log=$$(mktemp); trap 'rm -f "$$cfn_log"' EXIT; \
	  $(if $(CFN_TEMPLATES),$(VENV)/bin/cfn-lint --include-checks I -- $(CFN_TEMPLATES),true) >"$$cfn_log" 2>&1 & cfn=$$!; \
	  echo "$(VENV)/bin/mypy"; $(VENV)/bin/mypy; mypy_status=$$?; \
	  wait $$cfn; cfn_status=$$?; \
	  echo "$(VENV)/bin/cfn-lint --include-checks I -- $(CFN_TEMPLATES)"; cat "$$cfn_log"; \
	  exit $$(( mypy_status || cfn_status ))
	$(PY) -m seeding.assets --check-manifest
	$(PY) -m generator render --check --out templates
	$(PY) -m scripts.preview architecture --check docs/architecture.svg

templates: $(STAMP) ## Write seeding/asset-files.txt from git, render every template variant into templates/, redraw docs/architecture.svg
	$(PY) -m seeding.assets --write-manifest
	$(PY) -m generator render --out templates
	$(PY) -m scripts.preview architecture docs/architecture.svg

architecture: $(STAMP) ## Redraw docs/architecture.svg and the preview goldens (tests/preview/golden) from templates/
	$(PY) -m scripts.preview architecture docs/architecture.svg
	PREVIEW_GOLDEN_UPDATE=1 $(PY) -m pytest -q tests/preview/test_preview_golden.py

preview: $(STAMP) ## Write build/preview/index.html: Studio's form, the command, the architecture (VARIANT=v1|v2)
	$(PY) -m scripts.cli preview --template-variant $(or $(VARIANT),v1) --out build/preview

seed-zips: $(STAMP) ## Build the seed and bootstrap zips into build/assets (byte-identical run to run)
	$(PY) -m seeding.assets --out build/assets

demo: $(STAMP) ## Run the whole walkthrough (steps 1 to 6) on the local AWS stand-in
	$(PY) -m demo

standin: $(STAMP) ## Start the local AWS stand-in in the foreground; prints the exports to use it
	$(PY) -m standin

bench: $(STAMP) ## Print speed and size figures
	$(PY) -m bench

$(CHECKOV_VENV)/bin/checkov:
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet checkov==$(CHECKOV_VERSION)

checkov: $(CHECKOV_VENV)/bin/checkov $(STAMP) ## checkov (own environment, offline) on every variant with all conditions on
	$(PY) -m generator render --all-conditions-on --out build/checkov
	$(CHECKOV_VENV)/bin/checkov --skip-download --quiet --compact --framework cloudformation -d build/checkov

# The wheel is built from the unpacked sdist, as pip builds one: proof that the sdist holds all it needs.
PEP517 = -c 'import sys; from setuptools import build_meta as b; getattr(b, sys.argv[1])(sys.argv[2])'
dist: $(STAMP) ## Build the sdist and, from it, the wheel into dist/ (templates and seed zips inside)
	rm -rf dist build/sdist && mkdir -p build/sdist
	$(PY) $(PEP517) build_sdist dist
	tar -xzf dist/*.tar.gz -C build/sdist
	cd build/sdist/* && $(abspath $(PY)) $(PEP517) build_wheel $(abspath dist)
	@ls -l dist

lock: ## Re-resolve requirements/dev.in into requirements/dev.txt, every pin with its hashes (needs PyPI)
	rm -rf build/lockenv && $(PYTHON) -m venv build/lockenv
	build/lockenv/bin/pip install --quiet pip-tools
	{ sed -n '1,2p' requirements/dev.txt; build/lockenv/bin/pip-compile --quiet --generate-hashes --allow-unsafe \
	  --no-header --no-annotate --strip-extras --output-file - requirements/dev.in \
	  | grep -v -e '^--extra-index-url' -e '^--index-url' -e '^--find-links'; } > requirements/dev.txt.new
	mv requirements/dev.txt.new requirements/dev.txt

clean: ## Remove the virtual environments and build output
	rm -rf $(VENV) $(CHECKOV_VENV) build .pytest_cache .mypy_cache .ruff_cache
