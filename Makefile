# One obvious way to run anything. Every target bootstraps .venv when it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SEEDS ?= ../shared/seeds
STAMP := $(VENV)/.installed

.PHONY: install test serve specs lint bench fuzz clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

test: install
	$(BIN)/python -m pytest -n auto

serve: install
	$(BIN)/apitwin serve --host 127.0.0.1 --port 4010

specs: install
	$(BIN)/apitwin specs build --seeds $(SEEDS)

lint: install
	$(BIN)/apitwin specs lint

bench: install
	$(BIN)/python -m bench

# make fuzz API=aimlapi URL=http://127.0.0.1:4010 [FUZZ_ARGS='--max-requests 200 --html fuzz.html']
fuzz: install
	$(BIN)/apitwin fuzz $(API) --base-url $(URL) $(FUZZ_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .apitwin
