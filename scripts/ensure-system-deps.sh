#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks for `make run` / `make test`: Java 17 and Maven for
# the Kafka broker's jars, and (for the test suite) Debian's PostgreSQL server binaries and Debian's
# Chromium for the dashboard's browser test (driven by Playwright; never `playwright install`), and
# for the containers Debian's Docker engine and debootstrap (the base image; deploy/docker).
# Usage: scripts/ensure-system-deps.sh [--postgres] [--browser] [--docker]
set -euo pipefail
need=()
command -v java >/dev/null 2>&1 || need+=(openjdk-17-jre-headless)
command -v mvn >/dev/null 2>&1 || need+=(maven)
want_postgres=0; want_browser=0; want_docker=0
for arg in "$@"; do
  case "$arg" in
    --postgres) want_postgres=1 ;;
    --browser) want_browser=1 ;;
    --docker) want_docker=1 ;;
  esac
done
if ((want_postgres)) && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  need+=(postgresql)
fi
if ((want_browser)) && [[ ! -x /usr/bin/chromium ]]; then
  need+=(chromium)
fi
if ((want_docker)); then
  # the engine (a docker CLI may be on the machine without one) and the base image's builder
  [[ -x /usr/sbin/dockerd ]] || command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
  command -v debootstrap >/dev/null 2>&1 || [[ -x /usr/sbin/debootstrap ]] || need+=(debootstrap)
fi
if ((${#need[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "missing system packages: ${need[*]} (install them with apt-get as root)" >&2
    exit 1
  fi
  echo "installing ${need[*]} ..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
