# Service Workbench — the two commands a new machine needs are `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test check lint imports format typecheck pytest pytest-postgres serve openapi bench soak clean

# What talks to a backend but the screens, run a second time on PostgreSQL by `make test`:
# the API's tests, the client's, and the server's that are not about the SQLite file itself.
BACKEND_TESTS := tests/api tests/model/test_model_queue.py tests/model/test_working_calendar.py \
	tests/scale/test_queue_concurrency.py tests/scale/test_fault_injection.py \
	$(wildcard tests/client/test_client*.py) tests/client/test_outbox.py \
	tests/client/test_event_stream.py tests/client/test_store.py tests/backend/test_schema.py \
	tests/backend/test_group_commit.py tests/backend/test_personal_data_in_logs.py \
	tests/backend/test_graceful_shutdown.py tests/backend/test_cli.py
PYTEST_WORKERS ?= 2

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/workbench demo

serve: $(STAMP)
	$(BIN)/workbench serve

check: lint imports typecheck

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The house's import rules ([tool.importlinter] in pyproject.toml, drawn in ARCHITECTURE.md).
imports: $(STAMP)
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest -q -n $(PYTEST_WORKERS) --ignore=tests/scale/test_city_scale.py
	$(BIN)/pytest -q tests/scale/test_city_scale.py

pytest-postgres: $(STAMP)
	$(BIN)/pytest -q -n $(PYTEST_WORKERS) --database postgresql $(BACKEND_TESTS)

test: check pytest pytest-postgres

openapi: $(STAMP)
	$(BIN)/workbench openapi --output openapi.json

bench: $(STAMP)
	$(BIN)/python bench/claims.py

# The long proofs: 10,000 changes from 20 outboxes with the backend SIGKILLed at random, then
# 200 clerks for 10 minutes, and schemathesis with many more examples.
# SOAK_ARGS shrinks it, e.g. `make soak SOAK_ARGS="--changes 2000 --seconds 60"`.
SOAK_ARGS ?=
soak: $(STAMP)
	WORKBENCH_FUZZ_EXAMPLES=60 WORKBENCH_FUZZ_SCENARIOS=300 WORKBENCH_FUZZ_STEPS=12 WORKBENCH_MODEL_EXAMPLES=200 WORKBENCH_MODEL_STEPS=40 $(BIN)/pytest -q tests/api/test_schemathesis.py tests/model/test_model_queue.py
	$(BIN)/python bench/soak.py $(SOAK_ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
print-%:
	@echo $($*)
