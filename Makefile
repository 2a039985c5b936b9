# The two commands: `make demo` and `make test`. Both create .venv and install what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast lint format bench lock clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/triad demo

test: $(STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

# the inner loop: everything but the end-to-end and process tests
test-fast: $(STAMP)
	$(BIN)/pytest -m "not slow" $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	# Triad and Probot at WARNING and at their default, INFO (a log line a delivery)
	$(BIN)/python bench/harness.py --log-level WARNING,INFO
	$(BIN)/python bench/review_concurrency.py
	$(BIN)/python bench/worker_start.py
	$(BIN)/python bench/door_traffic.py
	$(BIN)/python bench/command_parse.py
	$(BIN)/python bench/relay_lines.py
	$(BIN)/python bench/admission.py
	# the same on PostgreSQL (left out, saying why, when it cannot be reached); then the
	# workers' own CPU and the 1/2/4-process scale-out, which need PostgreSQL
	$(BIN)/python bench/admission.py \
		--postgres $${TRIAD_TEST_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/test}
	TRIAD_TEST_DATABASE_URL=$${TRIAD_TEST_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/test} \
		$(BIN)/python bench/workers.py

# requirements.lock pins every runtime dependency the Docker image installs; regenerate it
# after changing pyproject.toml's dependencies (tests/test_deploy_files.py fails until you do)
lock: $(STAMP)
	$(BIN)/pip install --quiet pip-tools
	$(BIN)/pip-compile --quiet --strip-extras --no-emit-index-url --no-emit-find-links \
		--output-file requirements.lock pyproject.toml

clean:
	rm -rf $(VENV) .pytest_cache triad.db triad.db-wal triad.db-shm
