#!/usr/bin/env bash
# Run the task server (todo-mcp over HTTP) and the chat gateway together, on the
# embedded SQLite default, with secrets made up for this run. Point it at a model:
#   LLM_BASE_URL=http://127.0.0.1:11434/v1 LLM_MODEL=llama3.1 scripts/run-local.sh            # Ollama
#   LLM_BASE_URL=https://api.openai.com/v1 LLM_MODEL=gpt-4o-mini LLM_API_KEY=sk-… scripts/run-local.sh
# Ctrl-C stops both. TODO_BIN_DIR=dir uses binaries already built there
# instead of building them in release mode.
set -euo pipefail
cd "$(dirname "$0")/.."

bin="${TODO_BIN_DIR:-}"
if [ -z "$bin" ]; then
  cargo build --release --quiet -p todo-mcp -p todo-gateway
  bin=./target/release
fi

random_secret() { od -An -N32 -tx1 /dev/urandom | tr -d ' \n'; }
export MCP_JWT_SECRET="${MCP_JWT_SECRET:-$(random_secret)}"
export AUTH_JWT_SECRET="${AUTH_JWT_SECRET:-$(random_secret)}"
export MCP_BIND="${MCP_BIND:-127.0.0.1:8001}"
export MCP_URL="${MCP_URL:-http://$MCP_BIND/mcp}"
export GATEWAY_BIND="${GATEWAY_BIND:-127.0.0.1:8000}"
# The web chat's sign-in as any user name (refused off loopback).
export DEV_MODE="${DEV_MODE:-1}"

"$bin/todo-mcp" http &
mcp_pid=$!
trap 'kill "$mcp_pid" 2>/dev/null || true' EXIT INT TERM

user="${TODO_USER:-me}"
token="$("$bin/todo-gateway" token --user "$user" --ttl 12h)"
cat >&2 <<MSG

todo-mcp:     http://$MCP_BIND/mcp
todo-gateway: http://$GATEWAY_BIND   (model: ${LLM_MODEL:-llama3.1} at ${LLM_BASE_URL:-http://127.0.0.1:11434/v1})
Web chat:     open http://$GATEWAY_BIND/ and sign in with any user name (development mode)
A token for user "$user" (12 h):
  export TOKEN=$token
  curl -s http://$GATEWAY_BIND/api/$user/chat -H "Authorization: Bearer \$TOKEN" \\
       -H 'Content-Type: application/json' -d '{"message": "Add a task to buy milk"}'

MSG
"$bin/todo-gateway" serve
