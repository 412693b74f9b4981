"""Runs a destructive script through pingone-mcp with the official Python `mcp` client,
answering the server's confirmation question, and prints one JSON report.

    python confirm_client.py ANSWER stdio BINARY [ARGS...]
    python confirm_client.py ANSWER http URL TOKEN

ANSWER is accept, accept-all (confirm this and the script's other calls of the same
action), refuse (accept with confirm: false), refuse-all (and refuse the script's other
calls like it), decline or cancel, or none for a client
without the elicitation capability. The script deletes the first two users, one after
the other; a second call reads them back, so the report shows which deletes happened.
A server in `--mode both` is also asked to delete a third user with the delete_user tool.

With CONFIRM_SCENARIO=two-groups the script instead creates two groups, adds two users
to the first and one of them to the second: a yes to all of the first group's adds is
no yes to the second's. With CONFIRM_SCENARIO=population-replace it sends a population
back without its password policy (a full replace that drops it). With CONFIRM_SCENARIO=missing-population it
moves a user to a population that does not exist. With CONFIRM_SCENARIO=delete-each-caught it
deletes three users, catching each refusal. With CONFIRM_SCENARIO=retire-secret it rotates
an application's secret keeping the old one for an hour, then retires the old one. With
CONFIRM_SCENARIO=delete-namesake it makes a second "Customer Portal" and deletes it.
"""

import asyncio
import json
import os
import sys

import mcp.types as types
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

DELETE_FIRST_TWO_USERS = """
const users = (await pingone.list_users({ limit: 2 })).items;
for (const user of users) await pingone.delete_user({ userId: user.id });
return users.map(u => u.id);
"""


ADD_TO_TWO_GROUPS = """
const users = (await pingone.list_users({ limit: 2 })).items;
const first = await pingone.create_group({ name: 'Confirm test first' });
const second = await pingone.create_group({ name: 'Confirm test second' });
for (const user of users) await pingone.add_user_to_group({ userId: user.id, id: first.id });
await pingone.add_user_to_group({ userId: users[0].id, id: second.id });
return [first.id, second.id];
"""

REPLACE_POPULATION = """
const population = (await pingone.list_populations({ all: true })).find(p => p.passwordPolicy);
await pingone.update_population({ populationId: population.id, name: population.name, description: 'Updated description' });
"""

DELETE_EACH_CAUGHT = """
const users = (await pingone.list_users({ limit: 3 })).items;
const out = [];
for (const user of users) {
  try { await pingone.delete_user({ userId: user.id }); out.push('deleted'); } catch (e) { out.push(e.code); }
}
return out;
"""

RETIRE_PREVIOUS_SECRET = """
const app = (await pingone.list_applications({ all: true })).find(a => a.name === 'Orders Backend');
await pingone.generate_application_secret({ applicationId: app.id, previous: { expiresAt: new Date(Date.now() + 3600000).toISOString() } });
await pingone.delete_application_secret({ applicationId: app.id });
"""

DELETE_A_NAMESAKE = """
const copy = await pingone.create_application({ name: 'Customer Portal', type: 'WEB_APP', protocol: 'OPENID_CONNECT', enabled: false, tokenEndpointAuthMethod: 'CLIENT_SECRET_BASIC', grantTypes: ['AUTHORIZATION_CODE'], responseTypes: ['CODE'], redirectUris: ['https://copy.example.com/cb'] });
await pingone.delete_application({ applicationId: copy.id });
"""

MOVE_TO_MISSING_POPULATION = """
const user = (await pingone.list_users({ limit: 1 })).items[0];
await pingone.update_user_population({ userId: user.id, id: '00000000-0000-4000-8000-000000000000' });
"""


def text_of(result):
    return "\n".join(getattr(block, "text", "") for block in result.content)


async def exercise(answer, target):
    asked = []

    async def confirm(context, params):
        asked.append(params.model_dump(by_alias=True, exclude_none=True))
        if answer == "accept":
            return types.ElicitResult(action="accept", content={"confirm": True})
        if answer == "accept-all":
            return types.ElicitResult(action="accept", content={"confirm": True, "confirmAll": True})
        if answer == "refuse":
            return types.ElicitResult(action="accept", content={"confirm": False})
        if answer == "refuse-all":
            return types.ElicitResult(action="accept", content={"confirm": False, "refuseAll": True})
        return types.ElicitResult(action=answer)

    callback = None if answer == "none" else confirm
    report = {}
    async with Client(target, elicitation_callback=callback) as client:
        report["protocol"] = str(client.protocol_version)
        scenario = os.environ.get("CONFIRM_SCENARIO")
        scripts = {"two-groups": ADD_TO_TWO_GROUPS, "population-replace": REPLACE_POPULATION, "missing-population": MOVE_TO_MISSING_POPULATION, "delete-each-caught": DELETE_EACH_CAUGHT, "retire-secret": RETIRE_PREVIOUS_SECRET, "delete-namesake": DELETE_A_NAMESAKE}
        if scenario in scripts:
            code = scripts[scenario]
            run = await client.call_tool("execute", {"code": code})
            report["run"] = {"is_error": run.is_error, "text": text_of(run), "result": (run.structured_content or {}).get("result")}
            report["asked"] = asked
            return report
        users = (await client.call_tool("execute", {"code": "return (await pingone.list_users({ limit: 2 })).items.map(u => u.id)"})).structured_content["result"]
        run = await client.call_tool("execute", {"code": DELETE_FIRST_TWO_USERS})
        report["delete"] = {"is_error": run.is_error, "text": text_of(run)}
        read_back = "return await Promise.all(ids.map(async id => { try { await pingone.get_user({ userId: id }); return 'exists' } catch (e) { return e.code } }))"
        after = await client.call_tool("execute", {"code": f"const ids = {json.dumps(users)}; {read_back}"})
        report["users_after"] = after.structured_content["result"]
        # Served with `--mode both`: one action called as a tool, on the third user.
        if "delete_user" in {tool.name for tool in (await client.list_tools()).tools}:
            third = (await client.call_tool("execute", {"code": "return (await pingone.list_users({ limit: 3 })).items[2].id"})).structured_content["result"]
            deleted = await client.call_tool("delete_user", {"userId": third})
            report["tool_delete"] = {"is_error": deleted.is_error, "text": text_of(deleted)}
    report["asked"] = asked
    return report


def main():
    answer, transport = sys.argv[1], sys.argv[2]
    if transport == "stdio":
        target = StdioServerParameters(command=sys.argv[3], args=sys.argv[4:], env=dict(os.environ))
    else:
        url, token = sys.argv[3], sys.argv[4]
        target = streamable_http_client(url, http_client=create_mcp_http_client(headers={"Authorization": f"Bearer {token}"}))
    print(json.dumps(asyncio.run(exercise(answer, target))))


if __name__ == "__main__":
    main()
