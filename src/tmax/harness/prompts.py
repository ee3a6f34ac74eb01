"""System and instance prompts, rendered from jinja templates in ``templates/``."""

from __future__ import annotations

from pathlib import Path

import jinja2

SUBMIT_COMMAND = "COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT"
_ENV = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
                          undefined=jinja2.StrictUndefined, keep_trailing_newline=True)


def render(template: str, **values) -> str:
    return _ENV.get_template(template).render(submit_command=SUBMIT_COMMAND, **values)


def render_text(source: str, **values) -> str:
    """A prompt from jinja text given in a config (same variables as the built-in templates)."""
    try:
        return _ENV.from_string(source).render(submit_command=SUBMIT_COMMAND, **values)
    except jinja2.TemplateError as exc:
        from tmax.errors import ConfigError

        raise ConfigError(f"prompt template does not render: {exc}", where="harness.system_prompt / instance_prompt",
                          fix="use {{ instruction }}, {{ workdir }}, {{ submit_command }}, {{ max_tool_calls }}, "
                              "{{ command_timeout }} only") from exc


def is_submission(command: str) -> bool:
    """``echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT`` alone (quotes and spacing tolerated)."""
    words = command.strip().replace('"', "").replace("'", "").split()
    return words == ["echo", SUBMIT_COMMAND]

# The one tool, as an OpenAI function schema (sent to chat servers and to chat templates).
BASH_TOOL = {
    "type": "function",
    "function": {
        "name": "bash",
        "description": "Run a command in the persistent bash shell and return its exit code and output.",
        "parameters": {"type": "object", "properties": {"command": {"type": "string", "description": "The command."}},
                       "required": ["command"]},
    },
}
