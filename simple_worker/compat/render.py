"""Render compatibility findings as text for people or JSON for tools.

The JSON document (``--format json``) has stable keys; new keys may be added, none renamed::

    {
      "format": 1,                      # version of this document's shape
      "old": "contracts/tasks.toml@origin/main",   # labels of the two contracts
      "new": "contracts/tasks.toml",
      "mode": "full",                   # full | backward | forward
      "breaking": true,                 # any finding breaks a direction the mode checks
      "counts": {"breaking": 1, "warning": 0, "info": 2},
      "findings": [
        {
          "rule": "argument-added-required",   # stable rule id (see compat.rules.RULES)
          "task": "send_email",
          "path": "send_email.args.locale",    # task, argument or nested field
          "message": "required argument added",
          "summary": "old messages lack it ...",   # why the rule is what it is
          "breaks": ["backward", "forward"],   # directions this change breaks (maybe none)
          "breaking": true,                    # breaks a direction the mode checks
          "severity": "breaking",              # breaking | warning | info, mode aside
          "recipe": ["...", "..."],            # safe sequence of deploys (maybe empty)
          "hint": null                         # e.g. a likely rename, or null
        }
      ]
    }

In ``counts``, a finding that breaks only a direction the mode does not check is a warning.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Final

from simple_worker.compat.rules import MODES, RULES, Finding, Mode

JSON_FORMAT_VERSION: Final = 1


def level(finding: Finding, mode: Mode) -> str:
    """``breaking``, ``warning`` or ``info`` under ``mode``."""
    if finding.breaking_in(mode):
        return "breaking"
    return "warning" if finding.breaks else finding.severity


def counts(findings: Sequence[Finding], mode: Mode) -> dict[str, int]:
    totals = {"breaking": 0, "warning": 0, "info": 0}
    for item in findings:
        totals[level(item, mode)] += 1
    return totals


def render_json(findings: Sequence[Finding], *, mode: Mode, old: str, new: str) -> str:
    """The JSON document described in this module's docstring, indented, ending in a newline."""
    document = {
        "format": JSON_FORMAT_VERSION,
        "old": old,
        "new": new,
        "mode": mode,
        "breaking": any(item.breaking_in(mode) for item in findings),
        "counts": counts(findings, mode),
        "findings": [
            {
                "rule": item.rule,
                "task": item.task,
                "path": item.path,
                "message": item.message,
                "summary": RULES[item.rule].summary,
                "breaks": list(item.breaks),
                "breaking": item.breaking_in(mode),
                "severity": item.severity,
                "recipe": list(item.recipe),
                "hint": item.hint,
            }
            for item in findings
        ],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def render_text(findings: Sequence[Finding], *, mode: Mode, old: str, new: str) -> str:
    """One block per finding, then a summary line; recipes for breaking findings."""
    checked = " and ".join(MODES[mode])
    lines = [f"{old} -> {new} (checking {checked} compatibility)"]
    for item in findings:
        label = level(item, mode)
        shown = label.upper() if label == "breaking" else label
        lines.append("")
        lines.append(f"{shown}: {item.path} [{item.rule}]")
        lines.append(f"  {item.message}")
        lines.append(f"  why: {RULES[item.rule].summary}")
        if item.breaks:
            unchecked = [d for d in item.breaks if d not in MODES[mode]]
            note = f" ({', '.join(unchecked)} not checked in --mode {mode})" if unchecked else ""
            lines.append(f"  breaks: {', '.join(item.breaks)}{note}")
        if item.hint:
            lines.append(f"  hint: {item.hint}")
        if item.recipe and (item.breaks or label == "warning"):
            lines.append("  safe sequence:")
            lines += [f"    {n}. {step}" for n, step in enumerate(item.recipe, start=1)]
    total = counts(findings, mode)
    lines.append("")
    if not findings:
        lines.append("no changes")
    else:
        lines.append(
            f"{len(findings)} change{'s' if len(findings) != 1 else ''}: "
            f"{total['breaking']} breaking, {total['warning']} warning"
            f"{'s' if total['warning'] != 1 else ''}, {total['info']} info"
        )
    return "\n".join(lines) + "\n"
