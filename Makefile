# Kinerja: two commands on a fresh machine.
#   make run    install what is missing, start broker + services + demo data, print the URLs
#   make test   the whole test suite (unit, integration on SQLite and PostgreSQL, e2e)
PYTHON   ?= python3
VENV     ?= .venv
BIN      := $(VENV)/bin
SERVICES := $(patsubst services/%/pyproject.toml,%,$(wildcard services/*/pyproject.toml))
PYPROJECTS := shared/pyproject.toml $(wildcard services/*/pyproject.toml) tests/support/pyproject.toml
KAFKA_LIB := deploy/kafka/lib/.resolved
# kustomize renders deploy/k8s/overlays in the tests (tests/deploy); a Go module, built with the machine's Go
KUSTOMIZE_VERSION ?= v5.7.1
KUSTOMIZE := $(BIN)/kustomize
# the OpenID provider the dashboard's sign-in is tested against (tests/e2e/test_oidc_signin.py)
KEYCLOAK_VERSION ?= 26.4.7
KEYCLOAK := deploy/keycloak/keycloak-$(KEYCLOAK_VERSION)/.built
PYTEST_ARGS ?=

.PHONY: help install run test test-unit test-integration test-e2e test-security test-faults test-deploy kustomize keycloak compose-plugin images broker-start broker-stop clean

help:
	@echo "make run | make test | make test-unit | make test-integration | make test-e2e | make test-security | make test-faults | make test-deploy | make images | make clean"

$(VENV)/.installed: $(PYPROJECTS) requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e 'shared[postgres,testing]' $(addprefix -e services/,$(SERVICES)) -e tests/support -r requirements-dev.txt
	touch $@

$(KAFKA_LIB): deploy/kafka/pom.xml
	scripts/ensure-system-deps.sh
	rm -rf deploy/kafka/lib  # a changed pom must not leave an old jar beside the new one
	mvn -q -B -f deploy/kafka/pom.xml package
	touch $@

install: $(VENV)/.installed $(KAFKA_LIB)

# Without Go the overlay render test skips (and says so); everything else in tests/deploy runs.
$(KUSTOMIZE): | $(VENV)/.installed
	@if command -v go >/dev/null 2>&1; then \
	  echo "installing kustomize $(KUSTOMIZE_VERSION) into $(BIN)"; \
	  GOBIN=$(abspath $(BIN)) GOTOOLCHAIN=local go install sigs.k8s.io/kustomize/kustomize/v5@$(KUSTOMIZE_VERSION); \
	else echo "go not found: kustomize not installed; the overlay render test will skip" >&2; fi

kustomize: $(KUSTOMIZE)

# Compose v2 as a Docker CLI plugin (github.com/docker/compose/v5, built with the machine's Go and
# cached in ~/.cache/kinerja); without Go the compose tests skip and say why
compose-plugin:
	scripts/install-compose-plugin.sh

# every image of docker-compose.yml, without a registry (needs a Docker engine; see README)
images: install
	scripts/ensure-system-deps.sh --docker
	deploy/docker/build-images.sh

# Keycloak's server distribution from Maven Central, built once; when it cannot be had, the sign-in
# test skips and says why (everything else runs)
$(KEYCLOAK): scripts/install-keycloak.sh
	KEYCLOAK_VERSION=$(KEYCLOAK_VERSION) scripts/install-keycloak.sh || echo "Keycloak not installed: tests/e2e/test_oidc_signin.py will skip" >&2

keycloak: $(KEYCLOAK)

run: install
	$(BIN)/kinerja up

# with a Docker engine (started when none runs) and the images built first, the suite's Kafka and
# PostgreSQL are containers of them and the compose stack is tested; without one, local processes
test: install $(KUSTOMIZE) $(KEYCLOAK) compose-plugin
	scripts/ensure-system-deps.sh --postgres --browser --docker
	scripts/with-docker.sh $(BIN)/python -m pytest $(PYTEST_ARGS)

test-unit: install $(KUSTOMIZE)
	$(BIN)/python -m pytest -m unit $(PYTEST_ARGS)

test-integration: install
	scripts/ensure-system-deps.sh --postgres
	$(BIN)/python -m pytest -m integration $(PYTEST_ARGS)

test-e2e: install $(KEYCLOAK)
	scripts/ensure-system-deps.sh --browser
	$(BIN)/python -m pytest -m e2e $(PYTEST_ARGS)

# the attacks of issue 7 (`make test` runs them too): prints routes covered, attempts, attempts through
test-security: install
	$(BIN)/python -m pytest tests/security $(PYTEST_ARGS)

# DESIGN section 4 under faults (broker stopped, PostgreSQL restarted, consumer and relay SIGKILLed,
# poison, re-sent backlogs); prints the per-scenario table, writes artifacts/faults-report.txt
test-faults: install
	scripts/ensure-system-deps.sh --postgres
	$(BIN)/python -m pytest tests/faults $(PYTEST_ARGS)

test-deploy: install $(KUSTOMIZE) compose-plugin
	scripts/ensure-system-deps.sh --postgres --docker
	scripts/with-docker.sh $(BIN)/python -m pytest tests/deploy $(PYTEST_ARGS)

# issue 7's benchmarks, one after another (not part of `make test`); each prints its figures and
# appends a section to BENCHMARKS.md; results as JSON in artifacts/bench/, kafka_ceiling.py last
# so it can put every figure against the ceiling. Takes the better part of an hour.
bench: install
	mkdir -p artifacts/bench
	$(BIN)/python bench/bench_ingest.py --append BENCHMARKS.md
	$(BIN)/python bench/stream_fanout.py --append BENCHMARKS.md
	$(BIN)/python bench/penilaian_apply.py --db both --append BENCHMARKS.md
	$(BIN)/python bench/notifikasi_apply.py --db both --batch 1,200 --append BENCHMARKS.md
	$(BIN)/python bench/e2e_latency.py --append BENCHMARKS.md
	$(BIN)/python bench/growth.py --append BENCHMARKS.md
	$(BIN)/python bench/kafka_ceiling.py --append BENCHMARKS.md

broker-start: install
	$(BIN)/kinerja broker start

broker-stop:
	-$(BIN)/kinerja broker stop

clean: broker-stop
	rm -rf var deploy/kafka/lib deploy/kafka/target
