"""The same walk as mcp-agent.mjs through the official MCP Python SDK's client (`mcp`), over
stdio or Streamable HTTP. The SDK validates each structured answer against the tool's output
schema (jsonschema) and raises on a mismatch.

    python mcp_agent.py stdio SIGHTLINE_BIN UI_ADDR    prints what it saw as JSON
    python mcp_agent.py http URL
"""

import asyncio
import json
import sys

from mcp import Client, StdioServerParameters


async def main() -> None:
    mode, target = sys.argv[1], sys.argv[2]
    server = (
        StdioServerParameters(command=target, args=["mcp", "--ui", sys.argv[3]])
        if mode == "stdio"
        else target
    )
    async with Client(server) as client:
        tools = (await client.list_tools()).tools

        async def answer(name, args):
            r = await client.call_tool(name, args)
            if r.is_error:
                return {"error": " ".join(c.text for c in r.content)}
            return r.structured_content

        async def refused(name, args):
            try:
                r = await client.call_tool(name, args)
                return " ".join(c.text for c in r.content) if r.is_error else None
            except Exception as e:  # the SDK raises the server's error
                return str(e)

        failing = await answer("list_sessions", {"has_errors": True})
        stories = {}
        for s in failing["sessions"][:6]:
            stories[s["sessionId"]] = await answer("get_session_story", {"session_id": s["sessionId"]})
        traces = {}
        for story in stories.values():
            for f in story["failingRequests"]:
                if f.get("traceId") and f["traceId"] not in traces:
                    traces[f["traceId"]] = await answer("get_trace", {"trace_id": f["traceId"]})
        print(json.dumps({
            "tools": sorted(t.name for t in tools),
            "withSchema": sorted(t.name for t in tools if t.output_schema),
            "failing": [s["sessionId"] for s in failing["sessions"]],
            "stories": stories,
            "traces": traces,
            "sql": (await answer("query_sql", {"sql": "select count(*) as n from sessions"}))["rows"],
            "badBudget": await refused("list_sessions", {"max_bytes": 5}),
            "unknownSession": await refused("get_session_story", {"session_id": "nobody"}),
        }))


asyncio.run(main())
