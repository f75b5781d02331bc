"""The breaking-change checker: findings from an old and a new contract, rendered separately."""

from simple_worker.compat.engine import accepts, compare
from simple_worker.compat.render import render_json, render_text
from simple_worker.compat.rules import DIRECTIONS, MODES, RULES, Direction, Finding, Mode, Rule

__all__ = [
    "DIRECTIONS",
    "MODES",
    "RULES",
    "Direction",
    "Finding",
    "Mode",
    "Rule",
    "accepts",
    "compare",
    "render_json",
    "render_text",
]
