"""Rendering the view model through the jinja2 templates into file texts."""

from __future__ import annotations

from typing import Final

import jinja2

from simple_worker.codegen.view import DEFAULT_OUT, PackageView, build_view
from simple_worker.contract.model import Contract

# Template per generated file; ``_records.py`` only when the contract has records.
_FILES: Final = (
    "__init__.py",
    "_contract.py",
    "_handlers.py",
    "_producers.py",
    "_records.py",
    "_tasks.py",
)


def generate(
    contract: Contract, *, source: str, toml_text: str, out: str = DEFAULT_OUT
) -> dict[str, str]:
    """The generated package for ``contract``: relative file path -> file text.

    ``source`` is the contract path as the user wrote it (it goes into every header and into
    ``CONTRACT``'s error messages); ``toml_text`` is the contract file's exact text, embedded in
    ``_contract.py``; ``out`` is the output directory, named in the regenerate command. The
    result is the same, byte for byte, on every run. Raises ContractError for a name the
    generated Python cannot use.
    """
    view = build_view(contract, source=source, toml_text=toml_text, out=out)
    environment = _environment()
    return {
        name: environment.get_template(f"{name}.j2").render(view=view, imports=_imports(view, name))
        for name in _FILES
        if name != "_records.py" or view.records
    }


def _imports(view: PackageView, name: str) -> object:
    return view.imports.get(name.removesuffix(".py"))


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("simple_worker.codegen", "templates"),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
