#!/usr/bin/env bash
# The local base image, built without any image registry: Debian bookworm from Debian's package
# mirror (debootstrap --variant=minbase), brought up to date from bookworm-updates and the security
# suite, with Python 3.11 and its venv module, then `docker import`ed and tagged.
#
#   deploy/docker/build-base.sh [--force]        # tag: $KINERJA_BASE_IMAGE (kinerja/base:bookworm)
#
# Every image of the project builds FROM it where no registry is reachable: the services
# (PYTHON_IMAGE), Kafka and PostgreSQL (BASE_IMAGE). The image carries a label with the hash of
# this script: a run finds the tag with the same hash and stops there (seconds), unless --force.
# Mirror: $DEBIAN_MIRROR, else the one apt uses on this machine, else deb.debian.org. The .debs
# are kept in ~/.cache/kinerja/debootstrap so a rebuild downloads nothing it already has.
# Needs: root, debootstrap, docker (DOCKER_HOST is honoured).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tag=${KINERJA_BASE_IMAGE:-kinerja/base:bookworm}
suite=bookworm
packages=python3,python3-venv,ca-certificates,tzdata,netbase
cache=${KINERJA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kinerja}/debootstrap
force=0
[[ "${1:-}" == "--force" ]] && force=1

recipe=$(sha256sum "$here/build-base.sh" | cut -c1-16)
if ((!force)) && [[ "$(docker image inspect -f '{{ index .Config.Labels "org.kinerja.base.recipe" }}' "$tag" 2>/dev/null)" == "$recipe" ]]; then
  echo "$tag is up to date (recipe $recipe)"
  exit 0
fi

mirror=${DEBIAN_MIRROR:-}
if [[ -z "$mirror" ]]; then
  # the mirror apt uses here (deb822 or one-line sources), http(s) only
  mirror=$(grep -hoE 'https?://[^ ]+/debian/?( |$)' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null \
           | head -1 | tr -d ' ' || true)
  mirror=${mirror:-http://deb.debian.org/debian}
fi
mirror=${mirror%/}
security=${DEBIAN_SECURITY_MIRROR:-${mirror%/debian}/debian-security}

command -v debootstrap >/dev/null || { echo "debootstrap is not installed (apt-get install debootstrap)" >&2; exit 1; }
[[ $(id -u) -eq 0 ]] || { echo "debootstrap needs root" >&2; exit 1; }
mkdir -p "$cache"
root=$(mktemp -d /var/tmp/kinerja-base.XXXXXX)
cleanup() {
  for m in proc dev/pts; do mountpoint -q "$root/$m" && umount -l "$root/$m"; done
  rm -rf --one-file-system "$root"
}
trap cleanup EXIT

echo "debootstrap $suite from $mirror into $root ..."
debootstrap --variant=minbase --include="$packages" --cache-dir="$cache" "$suite" "$root" "$mirror" >"$root.log" 2>&1 \
  || { tail -30 "$root.log" >&2; rm -f "$root.log"; exit 1; }
rm -f "$root.log"

# as Debian's own slim images: no documentation or man pages from later installs (the mkdirs keep
# postinst scripts that expect man1 from failing); apt keeps no downloaded .debs
cat >"$root/etc/dpkg/dpkg.cfg.d/kinerja-slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/lintian/*
EOF
echo 'APT::Install-Recommends "false"; APT::Install-Suggests "false";' >"$root/etc/apt/apt.conf.d/90kinerja-no-recommends"
echo 'DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/*.bin || true"; };' >"$root/etc/apt/apt.conf.d/90kinerja-clean"
cat >"$root/etc/apt/sources.list" <<EOF
deb $mirror $suite main
deb $mirror $suite-updates main
deb $security $suite-security main
EOF

echo "updating from $suite-updates and $suite-security ..."
mount -t proc proc "$root/proc"
cp /etc/resolv.conf "$root/etc/resolv.conf"
chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
  sh -c 'apt-get update -qq && apt-get -y -qq -o Dpkg::Options::=--force-confold dist-upgrade >/dev/null && apt-get clean' \
  || { echo "apt-get in the new root failed" >&2; exit 1; }
umount -l "$root/proc"
: >"$root/etc/resolv.conf"
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/* "$root"/var/log/* "$root"/tmp/* \
       "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/usr/share/locale/*
mkdir -p "$root/usr/share/man/man1"
version=$(chroot "$root" python3 -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')

echo "docker import $tag (Python $version) ..."
tar --numeric-owner -C "$root" -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' \
  --change "LABEL org.kinerja.base.recipe=$recipe org.kinerja.base.python=$version org.opencontainers.image.description=Debian-$suite-minbase-with-Python-$version" \
  --change 'CMD ["bash"]' \
  - "$tag" >/dev/null
docker image ls "$tag"
