# Two commands matter: `make demo` and `make test`. Everything else supports them.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
PY      = $(BIN)/python
RECSVC  = $(BIN)/recsvc
DEMO_CLIENTS ?= 2000
export HF_HUB_OFFLINE = 1
export TRANSFORMERS_OFFLINE = 1
export TOKENIZERS_PARALLELISM = false

.PHONY: install demo test test-fast lint chromium clean

install: $(VENV)/.installed

# torch first: the CPU build on this machine, so nothing pulls a CUDA build.
$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

# Browser tests drive Debian's Chromium (no browser downloads).
chromium:
	@{ command -v chromium >/dev/null 2>&1 && fc-list :lang=zh | grep -q .; } || { \
	  echo "installing Debian's chromium and CJK fonts for the browser tests"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk) \
	  || sudo sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk'; }

test: install chromium
	$(PY) -m pytest -q

test-fast: install
	$(PY) -m pytest -q -m "not slow and not browser"

lint: install
	$(BIN)/ruff check recsvc api training tests benchmarks
	$(BIN)/mypy recsvc

# one line per step (--brief, no INFO lines, progress bars only on a terminal), then the
# worklist and the server's banner
demo: install
	@$(RECSVC) --brief demo-data --clients $(DEMO_CLIENTS)
	@$(RECSVC) --brief stats
	@$(RECSVC) --brief index build
	@$(RECSVC) --brief train
	@$(RECSVC) --brief worklist --limit 10
	@$(RECSVC) serve --demo

clean:
	rm -rf data/recsvc.db* data/demo data/cache data/indexes data/reports models/v* test-output
