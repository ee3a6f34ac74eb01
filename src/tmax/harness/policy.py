"""The Policy protocol and a scripted policy.

A policy sees the message list and returns the next assistant message (an OpenAI-style dict:
``content`` and optionally ``tool_calls``). Engines that sample from a model implement it
later; ``ScriptedPolicy`` replays a fixed list of commands and then submits. It is a real
policy (it drives the full harness, parsers included), used for tests and validation.
"""

from __future__ import annotations

from typing import Protocol

from tmax.harness.prompts import SUBMIT_COMMAND


class Policy(Protocol):
    def generate(self, messages: list[dict]) -> dict:
        """The next assistant message given the conversation so far."""


def qwen3_xml_call(command: str) -> str:
    return f"<tool_call>\n<function=bash>\n<parameter=command>\n{command}\n</parameter>\n</function>\n</tool_call>"


class ScriptedPolicy:
    """Emits one tool call per command (Qwen3 XML), then the submit command; ``narrate``
    puts a "Step N." line before each call."""

    def __init__(self, commands: list[str], *, submit: bool = True, narrate: bool = True):
        self.commands = list(commands) + ([f"echo {SUBMIT_COMMAND}"] if submit else [])
        self.turn, self.narrate = 0, narrate

    def generate(self, messages: list[dict]) -> dict:
        if self.turn >= len(self.commands):
            return {"role": "assistant", "content": "I have nothing more to do."}
        command = self.commands[self.turn]
        self.turn += 1
        text = f"Step {self.turn}.\n" if self.narrate else ""
        return {"role": "assistant", "content": text + qwen3_xml_call(command)}
