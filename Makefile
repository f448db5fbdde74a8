# Two commands do all the set-up on a fresh clone:  make book   and   make test
# Each creates .venv when missing and installs the project with the extras it needs, pinned by
# constraints.txt; a second run skips the install while pyproject.toml and constraints.txt are
# unchanged (the stamp's name holds their hash).

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
KEY    := $(shell cat pyproject.toml constraints.txt | sha256sum | cut -c1-16)
PYTEST_ARGS ?=

.PHONY: test book install-test install-book constraints clean help

help:
	@echo "make test   - create .venv if needed, install, run the test suite"
	@echo "make book   - create .venv if needed, install, build the Jupyter Book into _build/html"
	@echo "make constraints - re-pin every installed package into constraints.txt"

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip>=24" setuptools wheel

$(VENV)/.installed-%-$(KEY): | $(PY)
	$(PY) -m pip install --quiet -c constraints.txt -e ".[$*]"
	rm -f $(VENV)/.installed-$*-*
	touch $@

install-test: $(VENV)/.installed-test-$(KEY)
install-book: $(VENV)/.installed-book-$(KEY)

test: install-test
	$(PY) -m pytest $(PYTEST_ARGS)

book: install-book
	$(VENV)/bin/jupyter-book build --all --warningiserror --keep-going .
	@echo "book: open _build/html/index.html"

constraints: install-test install-book
	$(PY) -m pip freeze --exclude-editable --exclude assd-core > constraints.txt

clean:
	rm -rf _build .pytest_cache .hypothesis
