#!/usr/bin/env bash
# Compose v2 as a Docker CLI plugin, built from the Go module proxy with this machine's Go:
# github.com/docker/compose/v5 at $COMPOSE_VERSION (v5.6.0). Debian's docker-compose (1.29) is too
# old for docker-compose.yml, and no release binary can be downloaded here.
#
#   scripts/install-compose-plugin.sh      # → ~/.docker/cli-plugins/docker-compose
#
# The binary is kept in ~/.cache/kinerja (KINERJA_CACHE_DIR), so a new clone installs it in a moment;
# the first build takes a few minutes. Nothing happens when `docker compose` already works. Without
# Go it says so and exits 0: the compose tests then skip and say why.
set -euo pipefail
version=${COMPOSE_VERSION:-v5.6.0}
module=github.com/docker/compose/v5
cache=${KINERJA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kinerja}
plugin_dir=${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins
binary=$cache/docker-compose-$version

if docker compose version >/dev/null 2>&1; then
  exit 0
fi
if [[ ! -x "$binary" ]]; then
  if ! command -v go >/dev/null 2>&1; then
    echo "go not found: the Compose plugin is not installed; the compose tests will skip" >&2
    exit 0
  fi
  echo "building docker compose $version with $(go version | cut -d' ' -f3) (a few minutes, once) ..."
  # `go install module@version` refuses a module whose go.mod has exclude directives: build in a copy
  dir=$(GOTOOLCHAIN=local GOFLAGS=-mod=mod go mod download -json "$module@$version" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
  [[ -n "$dir" ]] || { echo "go mod download $module@$version failed" >&2; exit 1; }
  work=$(mktemp -d)
  trap 'chmod -R u+w "$work"; rm -rf "$work"' EXIT
  cp -r "$dir/." "$work/"
  chmod -R u+w "$work"
  mkdir -p "$cache"
  (cd "$work" && GOTOOLCHAIN=local CGO_ENABLED=0 go build -trimpath \
     -ldflags "-w -X $module/internal.Version=$version" -o "$binary.tmp" ./cmd)
  mv "$binary.tmp" "$binary"
fi
mkdir -p "$plugin_dir"
install -m 0755 "$binary" "$plugin_dir/docker-compose"
docker compose version
