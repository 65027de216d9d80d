"""Smoke test: the official MCP Python SDK drives todo-mcp over stdio and HTTP.

Usage: python_client.py stdio BINARY DATABASE_URL
       python_client.py http URL TOKEN
Prints one JSON line per check and exits non-zero on the first failure.
"""

import asyncio
import json
import sys

import mcp
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import create_mcp_http_client, streamable_http_client

EXPECTED_TOOLS = {"add_task", "add_tasks", "list_tasks", "complete_task", "delete_task", "update_task"}


def check(condition, message):
    if not condition:
        print(json.dumps({"ok": False, "check": message}), flush=True)
        sys.exit(1)
    print(json.dumps({"ok": True, "check": message}), flush=True)


async def exercise(session, label):
    init = await session.initialize()
    server = getattr(init, "server_info", None) or getattr(init, "serverInfo", None)
    check(server is not None and server.name == "todo-mcp", f"{label}: server reports its name")
    tools = await session.list_tools()
    names = {tool.name for tool in tools.tools}
    check(names == EXPECTED_TOOLS, f"{label}: lists the six tools ({sorted(names)})")
    added = await session.call_tool("add_task", {"title": f"smoke via {label}", "description": "from the Python SDK"})
    check(not added.isError if hasattr(added, "isError") else not added.is_error, f"{label}: add_task succeeds")
    structured = getattr(added, "structuredContent", None) or getattr(added, "structured_content", None)
    check(structured["status"] == "created" and structured["title"] == f"smoke via {label}", f"{label}: add_task result is structured")
    listed = await session.call_tool("list_tasks", {"status": "pending"})
    structured = getattr(listed, "structuredContent", None) or getattr(listed, "structured_content", None)
    titles = [task["title"] for task in structured["tasks"]]
    check(f"smoke via {label}" in titles, f"{label}: list_tasks shows the new task")
    bad = await session.call_tool("complete_task", {"task_id": 987654321})
    is_error = getattr(bad, "isError", None) if hasattr(bad, "isError") else bad.is_error
    text = bad.content[0].text
    check(is_error and text == "Task 987654321 not found", f"{label}: a missing task is a readable tool error")
    await task_model(session, label)


def structured_of(result):
    return getattr(result, "structuredContent", None) or getattr(result, "structured_content", None)


async def task_model(session, label):
    """Every field round-trips; a repeating task moves on; search and bulk forms work."""
    rent = structured_of(await session.call_tool("add_task", {
        "title": f"Pay the rent ({label})", "due": "2027-01-01", "priority": "high",
        "tags": ["Home", "money"], "recurrence": "FREQ=MONTHLY;BYMONTHDAY=1"}))
    check(rent["due"] == "2027-01-01" and rent["priority"] == "high" and rent["tags"] == ["home", "money"]
          and rent["recurrence"] == "FREQ=MONTHLY;BYMONTHDAY=1" and rent["completed_at"] is None,
          f"{label}: add_task keeps due, priority, tags and recurrence")
    done = structured_of(await session.call_tool("complete_task", {"task_id": rent["task_id"]}))
    check(done["recurred"] is True and done["due"] == "2027-02-01" and done["completed"] is False,
          f"{label}: completing a monthly task moves it to the next 1st ({done['due']})")
    batch = structured_of(await session.call_tool("add_tasks", {"tasks": [
        {"title": f"Crème brûlée ({label})", "due": "2027-01-02T09:00:00+01:00"},
        {"title": f"Buy milk ({label})", "tags": ["shopping"]}]}))
    check([t["status"] for t in batch["tasks"]] == ["created", "created"], f"{label}: add_tasks adds both")
    found = structured_of(await session.call_tool("list_tasks", {"query": f"CREME brulee {label.upper()}"}))
    check([t["title"] for t in found["tasks"]] == [f"Crème brûlée ({label})"], f"{label}: search ignores case and accents")
    ids = [t["task_id"] for t in batch["tasks"]]
    both = structured_of(await session.call_tool("complete_task", {"task_ids": ids}))
    check([t["completed"] for t in both["tasks"]] == [True, True], f"{label}: complete_task with task_ids completes both")
    bad = await session.call_tool("add_task", {"title": "x", "due": "next friday"})
    check(bad.content[0].text.startswith("due must be a date like 2026-12-24"), f"{label}: a bad due names the accepted form")


async def main():
    mode = sys.argv[1]
    if mode == "stdio":
        binary, database_url = sys.argv[2], sys.argv[3]
        params = StdioServerParameters(command=binary, args=["--user", "python-smoke"], env={"DATABASE_URL": database_url})
        async with stdio_client(params) as (read, write):
            async with mcp.ClientSession(read, write) as session:
                await exercise(session, "stdio")
    elif mode == "http":
        url, token = sys.argv[2], sys.argv[3]
        async with create_mcp_http_client(headers={"Authorization": f"Bearer {token}"}) as http:
            async with streamable_http_client(url, http_client=http) as streams:
                read, write = streams[0], streams[1]
                async with mcp.ClientSession(read, write) as session:
                    await exercise(session, "http")
    else:
        sys.exit(f"unknown mode {mode}")


asyncio.run(main())
