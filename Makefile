# One obvious way to run anything. Every target bootstraps .venv when it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SEEDS ?= ../shared/seeds
STAMP := $(VENV)/.installed

.PHONY: install system-packages test serve specs lint bench fuzz clean

install: $(STAMP) system-packages

# The tests run a real redis-server and a headless chromium, both from Debian's packages.
SYSTEM_COMMANDS := redis-server chromium
system-packages:
	@missing=""; for cmd in $(SYSTEM_COMMANDS); do command -v $$cmd >/dev/null 2>&1 || missing="$$missing $$cmd"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  if [ "$$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi; \
	  DEBIAN_FRONTEND=noninteractive $$sudo apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq $$missing >/dev/null; \
	fi

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

# mypy cannot follow the package-dir mapping (specs/ installs as apitwin.specs, ...): it checks a link tree.
TYPECHECK := .typecheck/apitwin
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	mkdir -p $(TYPECHECK)
	for dir in specs mockserver contracts recordings; do ln -sfn ../../$$dir $(TYPECHECK)/$$dir; done
	for file in __init__.py __main__.py lazy_iri.py; do ln -sf ../../apitwin/$$file $(TYPECHECK)/$$file; done
	$(BIN)/mypy
	$(BIN)/apitwin specs lint

bench: install
	$(BIN)/python -m bench

# make fuzz API=aimlapi URL=http://127.0.0.1:4010 [FUZZ_ARGS='--max-requests 200 --html fuzz.html']
fuzz: install
	$(BIN)/apitwin fuzz $(API) --base-url $(URL) $(FUZZ_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .apitwin .typecheck
