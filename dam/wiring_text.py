"""`dam doctor --wiring`: a runtime's wiring (Wiring.describe()) as text for people."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def _pairs(items: Mapping[str, str], indent: str = "  ") -> list[str]:
    if not items:
        return [f"{indent}(none)"]
    width = max(len(name) for name in items)
    return [f"{indent}{name.ljust(width)}  {target}" for name, target in items.items()]


def render(wiring: Mapping[str, Any]) -> str:
    """The whole wiring, section by section, in the order things run."""
    lines = [f"Plugins (registered in this order): {', '.join(wiring['plugins'])}", ""]
    lines.append("Pipelines (stages in the order they run after an upload)")
    stages: Mapping[str, str] = wiring["stages"]
    for kind, order in wiring["pipelines"].items():
        lines.append(f"  {kind}: {' -> '.join(order)}")
        lines += _pairs({name: stages.get(name, "(no handler!)") for name in order}, "    ")
    unused = {name: target for name, target in stages.items() if not _in_pipeline(wiring, name)}
    if unused:
        lines.append("  stages in no pipeline (scheduled by name):")
        lines += _pairs(unused, "    ")
    lines += ["", "Jobs outside the pipelines (scheduled on request)"]
    lines += _pairs(wiring["tasks"])
    lines += ["", "Events and their subscribers (called in this order after the commit)"]
    if not wiring["subscribers"]:
        lines.append("  (none)")
    for event, handlers in wiring["subscribers"].items():
        lines.append(f"  {event}")
        lines += [f"    - {handler}" for handler in handlers]
    lines += ["", "Derived-state change steps (in this order, per drained batch)"]
    lines += _pairs(dict(wiring["change_steps"]))
    lines += ["", "Periodic tasks (each sweep, in this order)"]
    lines += _pairs(wiring["periodic"])
    lines += ["", "Services (one per runtime, closed with it)"]
    lines += _pairs(wiring["services"])
    lines += ["", "Readiness checks (/readyz; after the core's database, storage, queue)"]
    lines += _pairs(wiring["readiness"])
    lines += ["", "Start-up checks (when job consumers start: dam serve, dam worker)"]
    lines += _pairs(wiring["startup"])
    lines += ["", "dam doctor checks (after the core's database and queue)"]
    lines += [f"  - {check}" for check in wiring["doctor"]] or ["  (none)"]
    lines += ["", "dam check parts (dam check --<name>)"]
    lines += _pairs(wiring["check_parts"])
    lines += ["", "Extension points (what packages lend each other)"]
    if not wiring["extensions"]:
        lines.append("  (none)")
    for point, values in wiring["extensions"].items():
        lines.append(f"  {point}")
        lines += _pairs(values, "    ")
    lines += ["", f"Commands added by plugins: {', '.join(wiring['commands']) or '(none)'}"]
    return "\n".join(lines)


def _in_pipeline(wiring: Mapping[str, Any], stage: str) -> bool:
    return any(stage in order for order in wiring["pipelines"].values())
