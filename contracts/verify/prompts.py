"""The prompt library's scenario: a collection, a partial and a prompt made by the run, a version saved
and published for each, a label that chooses a version, render and completions, then each deleted.

Every request is judged (their answers against the contract, each write meant to succeed); what
the run makes is named with its run id and, like every record of a declared resource it creates, is
deleted at the end if a step failed. Left out, with a note, when the contract lacks any of these
operations (a service whose contract is not the project's own).
"""

from __future__ import annotations

from typing import Any, TextIO

from contracts.verify.guard import safe_body
from contracts.verify.lifecycle import Client, created_record, lacking, leave_out
from contracts.verify.run import VerifyRun

NAME = "prompt library"
"""What the names of everything the scenario makes begin with, after the run's prefix."""
NEEDED = (
    "createCollection",
    "deleteCollection",
    "createPromptPartial",
    "updatePromptPartial",
    "updatePromptPartialDefault",
    "deletePromptPartial",
    "createPrompt",
    "updatePrompt",
    "getPromptVersions",
    "updatePromptDefault",
    "getPrompt",
    "createPromptRender",
    "createPromptCompletion",
    "deletePrompt",
)


def run_prompt_lifecycle(run: VerifyRun, client: Client, api_key: str, out: TextIO) -> None:
    """Drive the prompt library through its life once; one progress line."""
    why = lacking(run, NEEDED)
    if why:
        leave_out(run, "prompt library", why)
        return
    print("lifecycle: prompt library (versions, publishing, render, completions)", file=out, flush=True)
    collection = _made(run, client, api_key, "createCollection", "/collections", {"name": NAME})
    if collection is None:
        return
    partial = _made(
        run,
        client,
        api_key,
        "createPromptPartial",
        "/prompts/partials",
        {"name": f"{NAME} tone", "string": "Be kind."},
    )
    if partial is not None:
        path = f"/prompts/partials/{partial['id']}"
        client.send("PUT", path, api_key, {"string": "Be brief."}, intent="valid")
        client.send("PUT", f"{path}/makeDefault", api_key, {"version": 2}, intent="valid")
    include = f"{{{{>{partial['slug']}}}}} " if partial is not None else ""
    body = {
        "name": f"{NAME} reply",
        "collection_id": collection["id"],
        "string": include + "Answer {{question}}",
        "parameters": {},
    }
    prompt = _made(run, client, api_key, "createPrompt", "/prompts", {**body, "model": "gpt-4o-mini"})
    if prompt is not None:
        path = f"/prompts/{prompt['id']}"
        client.send("PUT", path, api_key, {"string": include + "Reply to {{question}}"}, intent="valid")
        client.send("GET", f"{path}/versions", api_key)
        client.send("PUT", f"{path}/makeDefault", api_key, {"version": 2}, intent="valid")
        client.send("GET", path, api_key)
        client.send("GET", f"{path}?version=1", api_key)
        variables = {"variables": {"question": "where is my order?"}}
        client.send("POST", f"/prompts/{prompt['slug']}/render", api_key, variables, intent="valid")
        client.send("POST", f"/prompts/{prompt['id']}@1/completions", api_key, variables, intent="valid")
        client.send("DELETE", path, api_key, intent="valid")
        client.send("GET", path, api_key)
    if partial is not None:
        client.send("DELETE", f"/prompts/partials/{partial['id']}", api_key, intent="valid")
    client.send("DELETE", f"/collections/{collection['id']}", api_key, intent="valid")


def _made(
    run: VerifyRun, client: Client, api_key: str, operation: str, path: str, body: dict[str, Any]
) -> dict[str, Any] | None:
    """The create's answer (its id and slug), or None if it failed (the checks have said so)."""
    return created_record(client.send("POST", path, api_key, safe_body(run, operation, body), intent="valid"))
