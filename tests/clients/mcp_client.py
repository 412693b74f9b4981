"""Drives pingone-mcp with the official Python `mcp` client and prints one JSON report.

    python mcp_client.py stdio BINARY [ARGS...]
    python mcp_client.py http URL TOKEN

The Rust integration tests (tests/mcp.rs) start the server, run this, and assert on
the report: what a real client saw, not what the server meant to send.
"""

import asyncio
import json
import os
import sys

from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client


def text_of(result):
    return "\n".join(getattr(block, "text", "") for block in result.content)


async def exercise(target):
    report = {}
    async with Client(target) as client:
        report["protocol"] = str(client.protocol_version)
        report["instructions"] = getattr(client, "instructions", None) or ""
        tools = await client.list_tools()
        report["tools"] = [
            {"name": t.name, "annotations": t.annotations.model_dump(by_alias=True, exclude_none=True) if t.annotations else {}}
            for t in tools.tools
        ]
        names = {t.name for t in tools.tools}
        if "search_tools" in names:
            found = await client.call_tool("search_tools", {"query": "disable a user", "limit": 3})
            report["search"] = {"is_error": found.is_error, "structured": found.structured_content}
            unmet = await client.call_tool("search_tools", {"query": "order pizza for the team lunch"})
            report["search_unmet"] = {"is_error": unmet.is_error, "structured": unmet.structured_content}
            progress = []

            async def on_progress(done, total, message):
                progress.append({"done": done, "message": message})

            code = os.environ.get("MCP_TEST_SCRIPT", "return 1 + 1")
            run = await client.call_tool("execute", {"code": code}, progress_callback=on_progress)
            report["execute"] = {"is_error": run.is_error, "structured": run.structured_content, "text": text_of(run)}
            report["progress"] = progress
            bad = await client.call_tool("execute", {"code": "await pingone.get_user({ userId: 'missing' })"})
            report["execute_error"] = {"is_error": bad.is_error, "structured": bad.structured_content, "text": text_of(bad)}
        if "get_user" in names:
            one = await client.call_tool("get_user", {"userID": "x"})
            report["tool_call_error"] = {"is_error": one.is_error, "structured": one.structured_content, "text": text_of(one)}
            calls = json.loads(os.environ.get("MCP_TEST_TOOL_CALLS", "[]"))
            report["tool_calls"] = []
            for call in calls:
                done = await client.call_tool(call["name"], call["arguments"])
                report["tool_calls"].append({"is_error": done.is_error, "structured": done.structured_content, "text": text_of(done)})
    return report


def main():
    mode = sys.argv[1]
    if mode == "stdio":
        target = StdioServerParameters(command=sys.argv[2], args=sys.argv[3:], env=dict(os.environ))
    else:
        url, token = sys.argv[2], sys.argv[3]
        http = create_mcp_http_client(headers={"Authorization": f"Bearer {token}"})
        target = streamable_http_client(url, http_client=http)
    print(json.dumps(asyncio.run(exercise(target))))


if __name__ == "__main__":
    main()
