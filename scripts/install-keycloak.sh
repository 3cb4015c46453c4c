#!/usr/bin/env bash
# Keycloak's server distribution from Maven Central into deploy/keycloak/keycloak-<version>
# (git-ignored), built once for a local H2 file database (`kc.sh build`), so each start is
# `kc.sh start --optimized` without the minute-long build step. The OpenID provider the dashboard's
# sign-in is tested against (tests/e2e/test_oidc_signin.py) and that `make run` can use.
# Keycloak 26.4 runs on the machine's Java 17 (it recommends 21). Usage: scripts/install-keycloak.sh
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION="${KEYCLOAK_VERSION:-26.4.7}"
DEST="deploy/keycloak/keycloak-$VERSION"
if [[ -f "$DEST/.built" ]]; then
  exit 0
fi
scripts/ensure-system-deps.sh  # Java and Maven
REPO="${MAVEN_REPO:-$HOME/.m2/repository}"
ZIP="$REPO/org/keycloak/keycloak-quarkus-dist/$VERSION/keycloak-quarkus-dist-$VERSION.zip"
if [[ ! -f "$ZIP" ]]; then
  echo "fetching Keycloak $VERSION from Maven Central ..."
  mvn -q -B dependency:get -Dartifact="org.keycloak:keycloak-quarkus-dist:$VERSION:zip" -Dtransitive=false \
    -Dmaven.repo.local="$REPO"
fi
rm -rf "$DEST"
python3 -m zipfile -e "$ZIP" deploy/keycloak/
chmod +x "$DEST"/bin/*.sh
echo "building Keycloak $VERSION for a local H2 database (once) ..."
"$DEST/bin/kc.sh" build --db=dev-file --health-enabled=true >/dev/null
# a seed database with Keycloak's schema and master realm, so a start copies it instead of creating
# the schema (most of a first start's time); a start imports the realm it is given on top
echo "creating the seed database (once) ..."
SEED="$PWD/$DEST/seed"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
MPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$DEST/bin/kc.sh" start --optimized --http-enabled=true --http-host=127.0.0.1 --http-port="$PORT" \
  --http-management-port="$MPORT" --hostname-strict=false --cache=local \
  --db-url="jdbc:h2:file:$SEED/keycloakdb;NON_KEYWORDS=VALUE" >"$DEST/seed.log" 2>&1 &
KC=$!
python3 - "$PORT" <<'PY'
import sys, time, urllib.request
deadline = time.monotonic() + 900
while time.monotonic() < deadline:
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/realms/master", timeout=2)
        sys.exit(0)
    except OSError:
        time.sleep(1)
sys.exit("Keycloak did not answer while seeding")
PY
kill "$KC"
wait "$KC" || true
touch "$DEST/.built"
echo "Keycloak $VERSION ready in $DEST"
