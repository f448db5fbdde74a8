# Two commands do all the set-up on a fresh clone:  make book   and   make test
# Each creates .venv when missing and installs the project with the extras it needs, pinned by
# constraints.txt; a second run skips the install while pyproject.toml and constraints.txt are
# unchanged (the stamp's name holds their hash).

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
JB     := $(VENV)/bin/jupyter-book
KEY    := $(shell cat pyproject.toml constraints.txt | sha256sum | cut -c1-16)
RESULTS ?= $(CURDIR)/results
# Data root of the image data ($ASSD_DATA): when unset, ../shared/data if it exists (the CIFAR-10
# JPEGs the stored image runs were computed from); otherwise the loaders' default.
ifeq ($(origin ASSD_DATA),undefined)
ifneq ($(wildcard $(CURDIR)/../shared/data/cifar10),)
export ASSD_DATA := $(abspath $(CURDIR)/../shared/data)
endif
endif
PYTEST_ARGS ?=
# Test processes (pytest-xdist): the tests and the notebooks run on this many cores. Tests in
# one xdist_group (the stored image runs' checks, which share what they compute) stay on one.
TEST_WORKERS ?= 2
# The published book's repository (https://host/owner/repo): when set, make book builds with
# _config.yml plus this URL and the repository and issue buttons (book/_ext/published_config.py).
# Empty: no repository button.
REPOSITORY_URL ?=
PUBLISHED_CONFIG := _build/_config.published.yml

.PHONY: help test book book-check browser book-paper bench bench-import results install-test install-book constraints clean

help:
	@echo "make test        - install if needed; mypy (core), unit tests, notebooks (nbval, smoke), smoke book"
	@echo "make book        - install if needed; build the book (book profile) into _build/html"
	@echo "make book-check  - build the smoke book and check it offline at desktop and phone width"
	@echo "make book-paper  - run every notebook at the paper profile (GPU, real data) with papermill"
	@echo "make bench       - performance benchmarks (tables on stdout, CSV in benchmarks/results)"
	@echo "make results     - compute what is missing of the book's stored runs (CPU hours; resumable)"
	@echo "make bench-import - import time and memory of assd_core against torch alone"
	@echo "make constraints - re-pin every installed package into constraints.txt"

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip>=24" setuptools wheel

$(VENV)/.installed-test-$(KEY): | $(PY)
	$(PY) -m pip install --quiet -c constraints.txt -e ".[test]"
	rm -f $(VENV)/.installed-test-*
	touch $@

$(VENV)/.installed-book-$(KEY): | $(PY)
	$(PY) -m pip install --quiet -c constraints.txt -e ".[book]"
	rm -f $(VENV)/.installed-book-*
	touch $@

install-test: $(VENV)/.installed-test-$(KEY)
install-book: $(VENV)/.installed-book-$(KEY)

test: install-test
	$(VENV)/bin/mypy
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadgroup --durations=15 $(PYTEST_ARGS)
	ASSD_PROFILE=smoke ASSD_RESULTS=$(RESULTS) $(PY) -m pytest --nbval-lax -p no:cacheprovider \
		-n $(TEST_WORKERS) --dist loadscope notebooks/
	ASSD_PROFILE=smoke ASSD_RESULTS=$(RESULTS) $(JB) build --all --warningiserror --keep-going \
		--path-output _build/smoke .
	$(MAKE) --no-print-directory browser
	$(PY) book/check_book.py _build/smoke/_build/html

book: install-book
	$(if $(strip $(REPOSITORY_URL)),$(PY) book/_ext/published_config.py "$(strip $(REPOSITORY_URL))" _config.yml $(PUBLISHED_CONFIG))
	ASSD_PROFILE=book ASSD_RESULTS=$(RESULTS) $(JB) build --all --warningiserror --keep-going \
		$(if $(strip $(REPOSITORY_URL)),--config $(PUBLISHED_CONFIG)) .
	@echo "book: open _build/html/index.html"

# The smoke book, checked as a reader sees it (book/check_book.py): no network resources, every
# page reachable, MathJax typeset, code lines <= 88 characters, no overflow at 1,400 px or on a
# 390 px phone; screenshots of three pages in _build/book-check.
book-check: install-book browser
	ASSD_PROFILE=smoke ASSD_RESULTS=$(RESULTS) $(JB) build --all --warningiserror --keep-going \
		--path-output _build/smoke .
	$(PY) book/check_book.py _build/smoke/_build/html --screenshots _build/book-check

# Headless Chromium for the book check (the CHROMIUM variable, or a browser on the PATH, as
# book/check_book.py looks for one): Debian's package is installed when there is none.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
browser:
	@[ -n "$$CHROMIUM" ] || command -v chromium >/dev/null || command -v chromium-browser >/dev/null || \
		command -v google-chrome >/dev/null || command -v google-chrome-stable >/dev/null || \
		{ echo "installing Debian's chromium for the book check"; \
		  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium; }

book-paper: install-book
	mkdir -p _build/paper-notebooks
	for nb in notebooks/*.ipynb; do \
		$(VENV)/bin/papermill "$$nb" "_build/paper-notebooks/$$(basename $$nb)" \
			-p profile paper -p results_dir "$(RESULTS)" --cwd notebooks || exit 1; \
	done
	@echo "book-paper: executed notebooks in _build/paper-notebooks"

results: install-book
	OMP_NUM_THREADS=1 $(PY) -m assd_repro.experiments.stored_runs run --results $(RESULTS)

bench: install-test
	$(PY) benchmarks/run_all.py

bench-import: install-test
	$(PY) benchmarks/import_cost.py

constraints: install-test
	$(PY) -m pip freeze --exclude-editable --exclude assd-core > constraints.txt

clean:
	rm -rf _build .pytest_cache .hypothesis
