"""Filling a prompt version's template, and the completion the mock answers instead of a model.

A template is Mustache (pystache, with no HTML escaping: a prompt is text for a model, not a web
page). It is either a JSON array of chat messages whose texts are templates, or plain text (a
completion prompt); with `is_raw_template: 1` the whole string is filled first, then read as JSON.
A variable the call does not give is filled with nothing, as Mustache does; Portkey's behaviour is
not documented. `{{>slug}}` includes a partial's published version, `{{>slug@3}}` its version 3.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

PartialText = Callable[[str], str | None]
"""A partial's text by the name a template includes it with (`tone`, `tone@3`); None if none."""

MAX_DEPTH = 8
"""How deep partials may include partials: deeper (or a loop) is refused, not followed forever."""


class TemplateRefused(ValueError):
    """A template the mock cannot fill: its Mustache does not parse, a partial it names is not
    there, or partials include each other too deeply."""


def render(string: str, variables: dict[str, Any], partial_text: PartialText, raw: bool) -> dict[str, Any]:
    """`messages` (a chat template) or `prompt` (a completion template), filled."""
    if raw:
        filled = _fill(string, variables, partial_text)
        messages = _messages(filled)
        return {"messages": messages} if messages is not None else {"prompt": filled}
    messages = _messages(string)
    if messages is None:
        return {"prompt": _fill(string, variables, partial_text)}
    return {"messages": [_filled_message(m, variables, partial_text) for m in messages]}


def completion(rendered: dict[str, Any], model: str, created: int) -> dict[str, Any]:
    """OpenAI's answer to the rendered request, made without a model: the assistant repeats the last
    message's text (or the prompt), prefixed `[mock completion]`; the id is the request's hash and
    tokens are counted as words, so the same request always gets the same answer."""
    digest = hashlib.sha256(json.dumps(rendered, sort_keys=True).encode()).hexdigest()[:24]
    if "messages" in rendered:
        said = _text(rendered["messages"][-1].get("content")) if rendered["messages"] else ""
    else:
        said = str(rendered.get("prompt", ""))
    content = f"[mock completion] {said}".strip()
    asked = sum(len(_text(m.get("content")).split()) for m in rendered.get("messages", [])) or len(
        str(rendered.get("prompt", "")).split()
    )
    usage = {"prompt_tokens": asked, "completion_tokens": len(content.split())}
    usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
    if "messages" in rendered:
        choice: dict[str, Any] = {
            "index": 0,
            "message": {"role": "assistant", "content": content},
            "logprobs": None,
            "finish_reason": "stop",
        }
        kind, prefix = "chat.completion", "chatcmpl"
    else:
        choice = {"index": 0, "text": content, "logprobs": None, "finish_reason": "stop"}
        kind, prefix = "text_completion", "cmpl"
    return {
        "id": f"{prefix}-mock-{digest}",
        "object": kind,
        "created": created,
        "model": model,
        "choices": [choice],
        "usage": usage,
    }


def _messages(text: str) -> list[dict[str, Any]] | None:
    """The chat messages a template's text holds, or None for a completion prompt."""
    try:
        value = json.loads(text)
    except ValueError:
        return None
    if isinstance(value, list) and value and all(isinstance(m, dict) and "role" in m for m in value):
        return value
    return None


def _filled_message(
    message: dict[str, Any], variables: dict[str, Any], partial_text: PartialText
) -> dict[str, Any]:
    content = message.get("content")
    if isinstance(content, str):
        return {**message, "content": _fill(content, variables, partial_text)}
    if isinstance(content, list):  # parts: each text part is a template
        parts = [
            {**part, "text": _fill(part["text"], variables, partial_text)}
            if isinstance(part, dict) and isinstance(part.get("text"), str)
            else part
            for part in content
        ]
        return {**message, "content": parts}
    return message


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return ""


def _fill(template: str, variables: dict[str, Any], partial_text: PartialText) -> str:
    import pystache  # loaded on the first render, not at start-up
    from pystache.common import PystacheError

    partials: dict[str, str] = {}
    _gather(template, partial_text, partials, chain=())
    renderer = pystache.Renderer(escape=lambda text: text, missing_tags="ignore", partials=partials)
    try:
        return str(renderer.render(template, variables))
    except (PystacheError, RecursionError) as error:  # a template that passed _gather parses
        raise TemplateRefused("its Mustache does not parse") from error


def _gather(template: str, partial_text: PartialText, into: dict[str, str], chain: tuple[str, ...]) -> None:
    """Every partial `template` includes, and theirs, by name into `into`; `chain` the partials
    that include this one (a partial within its own chain would be filled forever)."""
    from pystache.parser import parse

    try:
        nodes = parse(template)
    except Exception as error:  # pystache's ParsingError and PystacheError share no base but Exception
        raise TemplateRefused("its Mustache does not parse") from error
    for name in _partial_names(nodes):
        if name in chain or len(chain) >= MAX_DEPTH:
            raise TemplateRefused(f"partials include each other in a loop, or more than {MAX_DEPTH} deep")
        text = into.get(name)
        if text is None:
            text = partial_text(name)
        if text is None:
            raise TemplateRefused(f"includes a partial that is not there: {name[:100]}")
        into[name] = text
        _gather(text, partial_text, into, (*chain, name))


def _partial_names(nodes: Any) -> list[str]:
    names: list[str] = []
    for node in getattr(nodes, "_parse_tree", nodes):
        kind = type(node).__name__
        if kind == "_PartialNode":
            names.append(node.key)
        elif kind in ("_SectionNode", "_InvertedNode"):
            names.extend(_partial_names(node.parsed))
    return names
