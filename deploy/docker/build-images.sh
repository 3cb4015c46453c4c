#!/usr/bin/env bash
# Every image of docker-compose.yml, built on a machine that reaches no image registry:
#
#   deploy/docker/build-images.sh          # base, kafka, postgres, kehadiran, tugas, penilaian, notifikasi
#
# 1. kinerja/base:bookworm from Debian's packages (build-base.sh; skipped while it is current);
# 2. the Kafka jars (mvn, as `make install`) and the Python wheels of every dependency, made with
#    this machine's pip into deploy/docker/wheels (skipped while the pyproject files are unchanged);
# 3. kinerja/kafka, kinerja/postgres (apt inside the build: --network host) and one image per
#    service (no network at all: PIP_OFFLINE=1), with Docker's layer cache.
# Prints the seconds each step took. DOCKER_HOST is honoured. Tags: KINERJA_IMAGE_TAG (dev) for
# the services, KINERJA_KAFKA_IMAGE, KINERJA_POSTGRES_IMAGE, KINERJA_BASE_IMAGE.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
base=${KINERJA_BASE_IMAGE:-kinerja/base:bookworm}
tag=${KINERJA_IMAGE_TAG:-dev}
kafka_image=${KINERJA_KAFKA_IMAGE:-kinerja/kafka:4.3.1}
postgres_image=${KINERJA_POSTGRES_IMAGE:-kinerja/postgres:15}
python=${PYTHON:-$repo/.venv/bin/python}
[[ -x "$python" ]] || python=python3
services=(kehadiran tugas penilaian notifikasi)
# the classic builder (no buildx here); it says it is deprecated on every build
export DOCKER_BUILDKIT=0

step_started=0
step() { step_started=$SECONDS; echo "== $*"; }
took() { echo "   ($((SECONDS - step_started)) s)"; }

step "base image $base"
KINERJA_BASE_IMAGE=$base deploy/docker/build-base.sh
took

step "Kafka jars (deploy/kafka/lib)"
if ! ls deploy/kafka/lib/kafka_2.13-*.jar >/dev/null 2>&1; then
  mvn -q -B -f deploy/kafka/pom.xml package
fi
took

step "wheels (deploy/docker/wheels)"
wheels=deploy/docker/wheels
stamp=$(cat shared/pyproject.toml services/*/pyproject.toml deploy/docker/build-images.sh deploy/docker/requirements.py | sha256sum | cut -c1-16)
if [[ "$(cat "$wheels/.stamp" 2>/dev/null)" != "$stamp" ]]; then
  version=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
  image_version=$(docker image inspect -f '{{ index .Config.Labels "org.kinerja.base.python" }}' "$base")
  if [[ "${image_version%.*}" != "$version" ]]; then
    echo "the wheels are made with $python (Python $version) for the image's Python $image_version: set PYTHON to a $image_version interpreter" >&2
    exit 1
  fi
  rm -f "$wheels"/*.whl "$wheels/.stamp"
  # the dependencies named in the pyproject files (the projects themselves are built inside each
  # image, from the source the image gets), and setuptools for that build
  mapfile -t requirements < <("$python" deploy/docker/requirements.py shared/pyproject.toml services/*/pyproject.toml)
  "$python" -m pip wheel -q --disable-pip-version-check --wheel-dir "$wheels" "${requirements[@]}" "setuptools>=68" wheel
  echo "$stamp" >"$wheels/.stamp"
fi
echo "   $(ls "$wheels"/*.whl | wc -l) wheels"
took

step "$kafka_image"
docker build -q --network host --build-arg BASE_IMAGE="$base" -t "$kafka_image" deploy/kafka >/dev/null
took

step "$postgres_image"
docker build -q --network host --build-arg BASE_IMAGE="$base" -t "$postgres_image" deploy/postgres >/dev/null
took

for svc in "${services[@]}"; do
  step "kinerja/$svc:$tag"
  docker build -q -f deploy/docker/Dockerfile --network none --build-arg SERVICE="$svc" \
    --build-arg PYTHON_IMAGE="$base" --build-arg PIP_OFFLINE=1 -t "kinerja/$svc:$tag" . >/dev/null
  took
done
docker image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep -E "^(kinerja/|${kafka_image%%:*}|${postgres_image%%:*})" | sort -u
