# Kinerja: two commands on a fresh machine.
#   make run    install what is missing, start broker + services + demo data, print the URLs
#   make test   the whole test suite (unit, integration on SQLite and PostgreSQL, e2e)
PYTHON   ?= python3
VENV     ?= .venv
BIN      := $(VENV)/bin
SERVICES := $(patsubst services/%/pyproject.toml,%,$(wildcard services/*/pyproject.toml))
PYPROJECTS := shared/pyproject.toml $(wildcard services/*/pyproject.toml)
KAFKA_LIB := deploy/kafka/lib/.resolved
PYTEST_ARGS ?=

.PHONY: help install run test test-unit test-integration test-e2e broker-start broker-stop clean

help:
	@echo "make run | make test | make test-unit | make test-integration | make test-e2e | make clean"

$(VENV)/.installed: $(PYPROJECTS) requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e 'shared[postgres]' $(addprefix -e services/,$(SERVICES)) -r requirements-dev.txt
	touch $@

$(KAFKA_LIB): deploy/kafka/pom.xml
	scripts/ensure-system-deps.sh
	mvn -q -B -f deploy/kafka/pom.xml package
	touch $@

install: $(VENV)/.installed $(KAFKA_LIB)

run: install
	$(BIN)/kinerja up

test: install
	scripts/ensure-system-deps.sh --postgres
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-unit: install
	$(BIN)/python -m pytest -m unit $(PYTEST_ARGS)

test-integration: install
	scripts/ensure-system-deps.sh --postgres
	$(BIN)/python -m pytest -m integration $(PYTEST_ARGS)

test-e2e: install
	$(BIN)/python -m pytest -m e2e $(PYTEST_ARGS)

broker-start: install
	$(BIN)/kinerja broker start

broker-stop:
	-$(BIN)/kinerja broker stop

clean: broker-stop
	rm -rf var deploy/kafka/lib deploy/kafka/target
