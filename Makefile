# The README's commands. `make test` and `make demo` work from nothing: they create .venv and install.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test test-deps screenshots bench bench-quick lint lock serve clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "callboard needs Python >= 3.11"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

# constraints.txt from the newest versions pyproject.toml allows (a scratch venv; then `make test`)
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet --upgrade pip
	.lock-venv/bin/python -m pip install --quiet -e '.[dev]'
	head -3 constraints.txt > constraints.new
	.lock-venv/bin/python -m pip freeze --exclude-editable | grep -v '^-e' >> constraints.new
	mv constraints.new constraints.txt && rm -rf .lock-venv

demo: $(STAMP)
	$(BIN)/callboard demo

serve: $(STAMP)
	$(BIN)/callboard serve

# the browser tests' Chromium and Chinese font: got where possible, one line each on what it did
test-deps: $(STAMP)
	@scripts/test-deps

test: test-deps
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/vulture
	$(BIN)/pytest

# the README's pictures (docs/screens/*.png), taken by the screen tests that show them
SCREENSHOT_TESTS := tests/e2e/test_screens.py tests/e2e/test_sources.py tests/alerts/test_screens.py
screenshots: test-deps
	CALLBOARD_DOCS_SCREENS=1 $(BIN)/pytest -q -p no:randomly $(SCREENSHOT_TESTS) -k \
	  'wallboard_shows_the_api or stale_data_greys or agent_widget_fits or supervisor_drills or silent_source or breach_is_on_the_wall'

# Every bench with its checks; the summary goes into docs/PERFORMANCE.md (bench/all.py).
bench: $(STAMP)
	$(BIN)/python bench/all.py

bench-quick: $(STAMP)
	$(BIN)/python bench/all.py --quick

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/vulture

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
