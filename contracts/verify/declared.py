"""The lifecycle of every resource the contract declares (`x-portkey-resource`), derived from its marker.

For each resource: create it from the contract's own create example (named with the run id, secrets
replaced by canaries), retrieve it by each field its item path finds it by, list it, rename it,
read its versions if it keeps them, try an update the contract refuses, show it to a second API key,
delete it, then retrieve, update and delete it again. The ordered `record_*` checks judge each step
against the ledger's `OwnRecord`. A resource the run cannot mark as its own (no `name` in its create
body), whose create path needs a value the contract does not list, whose create example names a
record of another resource through a field with a state rule (`x-portkey-state-rule`: an MCP
server's integration), or that is organisation-level (`level: organisation`) while the run's API key
is a workspace's (403) is left out, with a note. Two of those are driven by scenarios of their own,
which make the record named first: prompts (`prompts.py`, in a collection) and MCP servers
(`mcp.py`, from an MCP integration).
"""

from __future__ import annotations

from typing import Any, TextIO

from contracts.strategies import breaks_contract
from contracts.verify import logs, mcp, prompts
from contracts.verify.guard import NOT_A_FIELD, safe_body
from contracts.verify.ledger import lifecycle_resources
from contracts.verify.lifecycle import Client, lacking
from contracts.verify.run import PERMANENT_WRITES_OPTION, VerifyRun
from mockserver.contract.declared import Declaration
from mockserver.contract.document import Contract, Operation


def run_declared_lifecycles(
    run: VerifyRun, client: Client, api_key: str, second_api_key: str | None, out: TextIO
) -> None:
    """Each declared resource through its life, in document order; one progress line each."""
    contract = run.contract
    for resource in lifecycle_resources(contract):
        create = contract.operations.get(resource.operations.get("create", ""))
        body = contract.body_example(create) if create else None
        path = contract.example_path(create) if create else None
        if create is None or path is None or not isinstance(body, dict) or "name" not in body:
            why = "it has no create example with a name to carry the run id, or its create path takes a value"
            _note_once(run, resource, _with_scenario(run, resource, why))
            continue
        named = sorted(  # the name carries the run id, which keeps it free (a label's)
            f"body.{field}" for field in body if field != "name" and f"body.{field}" in create.state_rules
        )
        if named:  # a prompt's collection, an MCP server's integration: prompts.py and mcp.py drive them
            why = f"its create example names a record the run does not make first: {', '.join(named)}"
            _note_once(run, resource, _with_scenario(run, resource, why))
            continue
        print(f"lifecycle: declared resource {resource.name}", file=out, flush=True)
        _lifecycle(run, client, api_key, second_api_key, resource, path.removeprefix(run.contract_base), body)


SCENARIOS = {
    "the prompt library's scenario": prompts.NEEDED,
    "the MCP scenario": mcp.NEEDED,
    f"the permanent writes' scenario ({PERMANENT_WRITES_OPTION})": logs.NEEDED,
}
"""The scenarios that drive a resource the generic lifecycle leaves out, by the operations each needs."""


def _with_scenario(run: VerifyRun, resource: Declaration, why: str) -> str:
    """`why`, and which scenario drives the resource's create instead, if one can on this contract
    (the permanent writes' only when the run may make them: else how to let it)."""
    create = resource.operations.get("create")
    for name, needed in SCENARIOS.items():
        if create not in needed:
            continue
        if needed is logs.NEEDED and not run.permanent_writes:  # its writes are not in the run's contract
            return f"{why}; pass {PERMANENT_WRITES_OPTION} to test it on a service you own"
        if not lacking(run, needed):
            return f"{why}; {name} drives it"
    return why


def _note_once(run: VerifyRun, resource: Declaration, why: str) -> None:
    """Say once why a declared resource is left out of the lifecycle."""
    if not any(note.startswith(f"declared resource {resource.name}: left out") for note in run.result.notes):
        run.result.notes.append(f"declared resource {resource.name}: left out of the lifecycle ({why})")


def _lifecycle(
    run: VerifyRun,
    client: Client,
    api_key: str,
    second_api_key: str | None,
    resource: Declaration,
    create_at: str,
    example: dict[str, Any],
) -> None:
    ops = resource.operations
    body = safe_body(run, ops["create"], example, keep_rules=False)
    created = client.send("POST", create_at, api_key, body, intent="permitted")
    if created.exchange.status == 403:  # e.g. a workspace's key making an organisation's API key
        run.result.notes.append(
            f"declared resource {resource.name}: left out of the lifecycle (the API key may not "
            f"create one at {create_at}: 403)"
        )
        return
    own = run.ledger.alive_records()
    mine = next((r for r in reversed(own) if r.resource is resource and r.api_key == api_key), None)
    if mine is None:
        return  # the create failed: the checks have said so
    item = _item(run.contract, resource)
    told = list(mine.refs.values())
    for ref in told:
        client.send("GET", item % ref, api_key)
    for ref in [ref for ref in mine.refs.values() if ref not in told]:  # learnt from a retrieve
        client.send("GET", item % ref, api_key)
    if "list" in ops:  # the collection, which need not be where records are created (API keys)
        client.send("GET", run.contract.operations[ops["list"]].template, api_key)
    if "update" in ops:
        client.send(
            "PUT", item % mine.ref, api_key, {"name": f"{run.ledger.name_prefix}updated"}, intent="valid"
        )
        client.send("GET", item % mine.ref, api_key)
        if breaks_contract(ops["update"], {NOT_A_FIELD: True}, run.contract):
            client.send("PUT", item % mine.ref, api_key, {NOT_A_FIELD: True}, intent="invalid")
            client.send("GET", item % mine.ref, api_key)
    if "versions" in ops:
        client.send("GET", _path_of(run.contract.operations[ops["versions"]], resource, mine.ref), api_key)
    if second_api_key is not None and not resource.organisation_level:
        # an organisation-level record (`level: organisation`) is every workspace's of its organisation
        client.send("GET", item % mine.ref, second_api_key)
    if "delete" in ops:
        client.send("DELETE", item % mine.ref, api_key, intent="valid")
        for ref in list(mine.refs.values()):
            client.send("GET", item % ref, api_key)
        if "update" in ops:
            client.send("PUT", item % mine.ref, api_key, {"name": f"{run.ledger.name_prefix}after-delete"})
        client.send("DELETE", item % mine.ref, api_key)


def _item(contract: Contract, resource: Declaration) -> str:
    """The item path, under the contract base, with `%s` where the record is named."""
    kind = next(k for k in ("retrieve", "update", "delete") if k in resource.operations)
    return contract.operations[resource.operations[kind]].template.replace(
        "{" + resource.item_parameter + "}", "%s"
    )


def _path_of(operation: Operation, resource: Declaration, ref: str) -> str:
    return operation.template.replace("{" + resource.item_parameter + "}", ref)
