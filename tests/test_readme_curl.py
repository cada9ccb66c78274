"""The README's raw HTTP examples, sent as written (curl's method, headers and body) to the mock."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import httpx

README = Path(__file__).resolve().parent.parent / "README.md"


def readme_curl_commands() -> list[list[str]]:
    """Each curl command of the README's "Raw HTTP examples" block, split as a shell would."""
    section = README.read_text(encoding="utf-8").split("## Raw HTTP examples (curl)", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block, "the README's curl examples block is missing"
    script = block.group(1).replace("\\\n", " ")
    return [shlex.split(line) for line in script.splitlines() if line.startswith("curl ")]


def send(client: httpx.Client, command: list[str], variables: dict[str, str]) -> httpx.Response:
    """Send one curl command (`-X`, `-H`, `-d` and the URL are all the examples use)."""
    method, headers, body, url = "GET", {}, None, None
    arguments = iter(command[1:])
    for argument in arguments:
        if argument == "-X":
            method = next(arguments)
        elif argument == "-H":
            name, _, value = next(arguments).partition(": ")
            headers[name] = value
        elif argument == "-d":
            body = next(arguments)
        else:
            url = argument

    def expand(text: str) -> str:
        return re.sub(r"\$(\w+)", lambda match: variables[match.group(1)], text)

    headers = {name: expand(value) for name, value in headers.items()}
    return client.request(method, expand(url or ""), headers=headers, content=body)


def test_the_readme_curl_examples_succeed_and_keep_to_the_contract(portkey_mock):
    commands = readme_curl_commands()
    assert len(commands) == 5
    variables = {"MOCK": portkey_mock.base_url, "KEY": "pk-demo"}
    with httpx.Client() as client:
        created = send(client, commands[0], variables)
        assert created.status_code == 200
        variables["SLUG"] = created.json()["data"]["slug"]
        for command in commands[1:]:
            assert send(client, command, variables).status_code == 200, shlex.join(command)

    portkey_mock.assert_all_requests_conform()
    operations = [entry["operation"] for entry in portkey_mock.journal]
    assert operations == [
        "createVirtualKey",
        "listVirtualKeys",
        "retrieveVirtualKey",
        "updateVirtualKey",
        "deleteVirtualKey",
    ]
