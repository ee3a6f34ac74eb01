"""Prompts and replies in chat form, shared by chat completions and the Responses API.

- ``normalize_messages``: OpenAI chat messages the way a chat template expects them: lists
  of content parts joined into text, ``developer`` read as ``system``, leading system
  messages merged into one, and the JSON-string ``arguments`` of assistant ``tool_calls``
  parsed into a mapping so the template writes earlier calls in its own format (Qwen3 XML for
  tmax's tiny models and Qwen3.5) rather than pasting raw JSON into the prompt.
- ``prompt_ids``: messages and tool schemas through the tokenizer's chat template
  (``apply_chat_template(..., tools=...)``), contents tokenized as plain text.
- ``split_reply``: reply text -> thinking, content and tool calls, read with tmax's own
  tool-call parsers (Qwen3 XML or Hermes JSON inside ``<tool_call>``), each argument given
  the JSON type its tool schema declares.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field

import jinja2

from tmax.engines.chat import ChatRenderer
from tmax.harness.errors import FormatError
from tmax.harness.parsers import PARSERS, ToolCall
from tmax.serve.errors import RequestError

TEXT_PARTS = {"text", "input_text", "output_text", "refusal", "reasoning_text", "summary_text"}
ROLES = {"system", "developer", "user", "assistant", "tool"}


def content_text(content, where: str) -> str:
    """A message content (a string, or a list of text parts) as one string."""
    if content is None or isinstance(content, str):
        return content or ""
    if not isinstance(content, list):
        raise RequestError(f"`{where}` must be a string or a list of content parts", param=where)
    texts = []
    for i, part in enumerate(content):
        kind = part.get("type") if isinstance(part, dict) else None
        if kind not in TEXT_PARTS:
            raise RequestError(f"`{where}[{i}].type` {kind!r} is not supported: this server's models read text "
                               f"only (text parts: {', '.join(sorted(TEXT_PARTS))})", param=f"{where}[{i}].type")
        texts.append(part.get("text") or part.get("refusal") or "")
    return "\n".join(texts)


def _arguments(raw, where: str) -> dict:
    if isinstance(raw, dict):
        return raw
    try:
        value = json.loads(raw) if isinstance(raw, str) and raw.strip() else {}
    except json.JSONDecodeError as exc:
        raise RequestError(f"`{where}` is not valid JSON: {exc}", param=where) from None
    if not isinstance(value, dict):
        raise RequestError(f"`{where}` must be a JSON object", param=where)
    return value


def tool_call(name: str, arguments, call_id: str | None, where: str) -> dict:
    """One assistant tool call, arguments as a mapping (what chat templates iterate over)."""
    return {"id": call_id or new_id("call"), "type": "function",
            "function": {"name": name, "arguments": _arguments(arguments, where)}}


def _assistant(m: dict, where: str, out: dict) -> None:
    calls = m.get("tool_calls") or []
    if not isinstance(calls, list):
        raise RequestError(f"`{where}.tool_calls` must be a list", param=f"{where}.tool_calls")
    out["tool_calls"] = []
    for j, call in enumerate(calls):
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(function, dict) or not function.get("name"):
            raise RequestError(f"`{where}.tool_calls[{j}]` needs a `function` with a `name`",
                               param=f"{where}.tool_calls[{j}]")
        out["tool_calls"].append(tool_call(function["name"], function.get("arguments"), call.get("id"),
                                           f"{where}.tool_calls[{j}].function.arguments"))
    if not out["tool_calls"]:
        del out["tool_calls"]
    if m.get("reasoning_content"):
        out["reasoning_content"] = content_text(m["reasoning_content"], f"{where}.reasoning_content")


def normalize_messages(messages: list, where: str = "messages") -> list[dict]:
    out: list[dict] = []
    for i, m in enumerate(messages):
        at = f"{where}[{i}]"
        role = m.get("role") if isinstance(m, dict) else None
        if role not in ROLES:
            raise RequestError(f"`{at}.role` {role!r} is not supported (use one of: {', '.join(sorted(ROLES))})",
                               param=f"{at}.role")
        message = {"role": "system" if role == "developer" else role, "content": content_text(m.get("content"),
                                                                                              f"{at}.content")}
        if role == "assistant":
            _assistant(m, at, message)
        if role == "tool" and m.get("tool_call_id"):
            message["tool_call_id"] = m["tool_call_id"]
        if message["role"] == "system" and out and all(x["role"] == "system" for x in out):
            out[-1]["content"] += "\n\n" + message["content"]  # templates take one system turn, first
        else:
            out.append(message)
    return out


def prompt_ids(tokenizer, messages: list[dict], tools: list[dict] | None) -> list[int]:
    """The conversation plus the generation prompt, as token ids."""
    template = str(tokenizer.chat_template or "")
    if not template:
        raise RequestError("the model has no chat template; use /v1/completions with a prompt", param="messages")
    if "reasoning_content" not in template:
        messages = [_inline_reasoning(m) for m in messages]
    try:
        return ChatRenderer(tokenizer, tools=tools or None).prompt_ids(messages)
    except jinja2.TemplateError as exc:
        raise RequestError(f"the model's chat template refused these messages: {exc}", param="messages") from None


def _inline_reasoning(m: dict) -> dict:
    """Thinking goes back inline, the way the model wrote it, for templates that do not render
    ``reasoning_content`` themselves."""
    if m.get("reasoning_content") is None:
        return m
    m = dict(m)
    m["content"] = f"<think>{m.pop('reasoning_content')}</think>\n\n{m['content']}"
    return m


@dataclass
class Reply:
    content: str
    reasoning: str | None = None
    calls: list[ToolCall] = field(default_factory=list)


def split_reply(text: str, *, tools: list[dict] | None, thinking: bool = False) -> Reply:
    """Reply text -> content, thinking (``<think>...</think>``, when ``thinking``) and calls of
    ``tools`` (chat-style schemas; none: no parsing). A malformed call stays in the content,
    where the client's own parser can report it."""
    reasoning = None
    if thinking and "</think>" in text:
        head, text = text.split("</think>", 1)
        reasoning, text = head.removeprefix("<think>"), text.lstrip("\n")
    calls: list[ToolCall] = []
    if tools:
        try:
            calls = PARSERS["auto"]({"content": text})
        except FormatError:
            calls = []
        if calls:
            text = text.split("<tool_call>", 1)[0].rstrip()
        schemas = {t["function"]["name"]: t["function"].get("parameters") or {} for t in tools}
        for call in calls:
            call.arguments = typed_arguments(call.arguments, schemas.get(call.name, {}))
    return Reply(text, reasoning, calls)


_JSON_TYPES = {"integer": int, "number": (int, float), "boolean": bool, "object": dict, "array": list,
               "null": type(None)}


def typed_arguments(arguments: dict, schema: dict) -> dict:
    """Qwen3 XML writes every argument as text; give each the JSON type its schema declares
    (``"5"`` -> 5 for an integer), as vLLM's ``qwen3_xml`` parser does. Text that does not
    read as that type stays text."""
    properties = schema.get("properties") if isinstance(schema, dict) else None
    if not isinstance(properties, dict):
        return arguments
    out = dict(arguments)
    for key, value in arguments.items():
        declared = properties[key].get("type") if isinstance(properties.get(key), dict) else None
        declared = declared if isinstance(declared, list) else [declared]
        if not isinstance(value, str) or "string" in declared or not set(declared) & set(_JSON_TYPES):
            continue
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            continue
        if any(isinstance(parsed, _JSON_TYPES[k]) and (k == "boolean" or not isinstance(parsed, bool))
               for k in declared if k in _JSON_TYPES):
            out[key] = parsed
    return out


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"
