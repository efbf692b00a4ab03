# Service Workbench — the two commands a new machine needs are `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test check lint format typecheck pytest pytest-postgres serve openapi bench soak clean

# The backend's tests and the API client's (everything that talks to a backend but the
# screens), run a second time on PostgreSQL by `make test`.
BACKEND_TESTS := $(wildcard tests/test_queue*.py tests/test_events.py tests/test_alarms.py \
	tests/test_auth.py tests/test_authorization.py tests/test_idempotency.py tests/test_problems.py \
	tests/test_cases*.py tests/test_decisions*.py tests/test_verification*.py \
	tests/test_e_licences.py tests/test_ratings.py tests/test_notices_api.py tests/test_merge*.py \
	tests/test_schema.py tests/test_group_commit.py tests/test_model_queue.py \
	tests/test_board_api.py tests/test_display_api.py tests/test_audit_export.py \
	tests/test_working_calendar.py tests/test_personal_data_in_logs.py tests/test_event_stream.py \
	tests/test_graceful_shutdown.py tests/test_fault_injection.py tests/test_client*.py \
	tests/test_outbox.py tests/test_schemathesis.py tests/test_cli.py)
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

check: lint typecheck

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest -q -n $(PYTEST_WORKERS) --ignore=tests/test_city_scale.py
	$(BIN)/pytest -q tests/test_city_scale.py

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
	WORKBENCH_FUZZ_EXAMPLES=60 WORKBENCH_MODEL_EXAMPLES=200 WORKBENCH_MODEL_STEPS=40 $(BIN)/pytest -q tests/test_schemathesis.py tests/test_model_queue.py
	$(BIN)/python bench/soak.py $(SOAK_ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
