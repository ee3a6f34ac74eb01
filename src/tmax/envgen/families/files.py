"""A family's own files: the programs, verifiers and fixtures it ships, kept as real files in its
folder (``<domain>/<family>/``) next to its ``build.py``.

A file is used as it is (``read``) or as a template (``fill``): jinja2 ``{{ name }}`` placeholders
for the sampled values, ``{{ name | repr }}`` (or ``| ascii``) where a Python literal goes.
Templates hold no logic: the builder computes every varying piece, so a template reads as the
program it becomes. Block and comment tags are moved to strings no program here contains, so
``{%`` in a C format string or ``{#`` in ``${#list[@]}`` stay literal text.
"""

from __future__ import annotations

from pathlib import Path

import jinja2
from jinja2 import meta

_OPTIONS = {"undefined": jinja2.StrictUndefined, "keep_trailing_newline": True, "autoescape": False,
            "block_start_string": "<%!", "block_end_string": "!%>",
            "comment_start_string": "<#!", "comment_end_string": "!#>"}


class FamilyFiles:
    """The files of one folder: ``FamilyFiles(__file__)`` in a builder module."""

    def __init__(self, module_file: str) -> None:
        self.folder = Path(module_file).parent
        self._env = jinja2.Environment(loader=jinja2.FileSystemLoader(self.folder), **_OPTIONS)
        self._env.filters.update(repr=repr, ascii=ascii)
        self._placeholders: dict[str, set[str]] = {}

    def read(self, name: str) -> str:
        """The text of file ``name`` (a path relative to the folder), byte for byte."""
        return (self.folder / name).read_bytes().decode("utf-8")

    def fill(self, name: str, /, **values) -> str:
        """Template ``name`` with its placeholders filled. Every placeholder needs a value and every
        value a placeholder, so a renamed or misspelt one fails here, not in a generated task."""
        if name not in self._placeholders:
            self._placeholders[name] = meta.find_undeclared_variables(self._env.parse(self.read(name)))
        wanted = self._placeholders[name]
        if set(values) != wanted:
            raise ValueError(f"{self.folder / name}: placeholders {sorted(wanted)}, values given for {sorted(values)}")
        return self._env.get_template(name).render(values)
