#!/usr/bin/env bash
# Runs a command (the test suite) with a Docker engine and the project's images, where Docker can
# run: starts dockerd when none answers (kinerja.docker_engine; stopped again afterwards if it was
# started here and runs nothing else), builds every image (deploy/docker/build-images.sh, cached),
# then runs the command and exits with its status. Where no engine can start, or the images do not
# build, the command still runs: its Kafka and PostgreSQL fixtures then use local processes and the
# container tests skip or fail with the reason.
#
#   scripts/with-docker.sh .venv/bin/python -m pytest
set -uo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-.venv/bin/python}
started=0
if [[ -n "${KINERJA_TEST_NO_DOCKER:-}" ]]; then
  echo "with-docker: KINERJA_TEST_NO_DOCKER is set: no containers"
elif "$python" -m kinerja.docker_engine start; then
  [[ -f "${KINERJA_DOCKER_RUN_DIR:-/run/kinerja-docker}/started-by-kinerja" ]] && started=1
  t0=$SECONDS
  if deploy/docker/build-images.sh; then
    echo "with-docker: images ready in $((SECONDS - t0)) s"
  else
    echo "with-docker: building the images failed (the tests use local processes where they can)" >&2
  fi
else
  echo "with-docker: no Docker engine: the tests use local processes; the container tests skip" >&2
fi
"$@"
status=$?
if ((started)); then
  "$python" -c 'import sys; from kinerja import docker_engine as d; sys.exit(0 if d.stop(only_if_idle=True) else 1)' \
    && echo "with-docker: stopped the dockerd started for the tests" \
    || echo "with-docker: the dockerd started for the tests still runs containers: left running" >&2
fi
exit $status
