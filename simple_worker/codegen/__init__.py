"""The code generator: a pure function from a contract to the files of a typed Python package.

``generate`` builds a view model (:mod:`simple_worker.codegen.view`) and renders the jinja2
templates in ``templates/``; writing files and ``--check`` belong to the CLI.
"""

from __future__ import annotations

from simple_worker.codegen.render import generate
from simple_worker.codegen.view import DEFAULT_OUT, HEADER_PREFIX, regenerate_command

__all__ = ["DEFAULT_OUT", "HEADER_PREFIX", "generate", "regenerate_command"]
