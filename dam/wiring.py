"""What runs in one runtime, in one place: the wiring each package fills from its plugin's
`register(wiring)`.

Every `Runtime` owns one `Wiring`; nothing about what runs lives in module-level state, so
two runtimes in one process (tests, a benchmark next to a server) can be wired
differently and never hear each other. `dam doctor --wiring` prints `describe()`.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from dam.models import AssetKind

if TYPE_CHECKING:
    from dam.changes import ChangeStep
    from dam.check import PartReport
    from dam.doctor import Finding
    from dam.events import Event
    from dam.jobs import StageContext
    from dam.runtime import Runtime

log = logging.getLogger(__name__)

E = TypeVar("E", bound="Event")


class RuntimeService(Protocol):
    def close(self) -> None: ...


StageHandler = Callable[["StageContext"], None]
# Bytes of memory a stage will need for this job, estimated from the file's header
# without decoding it; raises ProcessingError for a file that must not be decoded at all.
MemoryEstimate = Callable[["StageContext"], int]
PeriodicTask = Callable[["Runtime"], object]
Subscriber = Callable[["Runtime", Any], None]
ReadinessCheck = Callable[["Runtime"], None]
DoctorCheck = Callable[["Runtime"], Iterable["Finding"]]
PartCheck = Callable[["Runtime"], "PartReport"]
ServiceFactory = Callable[["Runtime"], RuntimeService]
# Makes a runtime's share of the change feed's drain (dam/changes.py: ChangeStep), which
# brings derived state (verdicts, the search index) up to date for a batch of changes.
ChangeStepFactory = Callable[["Runtime"], "ChangeStep"]


@dataclass
class Wiring:
    """Pipelines, stages, subscribers, periodic tasks, checks, services and the
    packages' own extension points of one runtime."""

    plugins: list[str] = field(default_factory=list)
    stages: dict[str, StageHandler] = field(default_factory=dict)
    memory: dict[str, MemoryEstimate] = field(default_factory=dict)
    # Stages whose job runs in the worker that finished the asset's stage before, at once.
    same_worker: set[str] = field(default_factory=set)
    tasks: dict[str, StageHandler] = field(default_factory=dict)
    pipelines: dict[AssetKind, list[str]] = field(default_factory=dict)
    insertions: defaultdict[AssetKind, list[tuple[str, str]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    periodic: dict[str, PeriodicTask] = field(default_factory=dict)
    periodic_every: dict[str, timedelta] = field(default_factory=dict)
    subscribers: defaultdict[type[Event], list[Subscriber]] = field(
        default_factory=lambda: defaultdict(list)
    )
    readiness: dict[str, ReadinessCheck] = field(default_factory=dict)
    doctor_checks: list[DoctorCheck] = field(default_factory=list)
    check_parts: dict[str, PartCheck] = field(default_factory=dict)
    services: dict[str, ServiceFactory] = field(default_factory=dict)
    startup: dict[str, Callable[[Runtime], None]] = field(default_factory=dict)
    change_steps: dict[str, tuple[int, ChangeStepFactory]] = field(default_factory=dict)
    # Command-line commands and groups (Typer callables / apps): installed on `dam`'s
    # command line by dam.cli, which parses before any runtime exists.
    commands: dict[str, Callable[..., Any]] = field(default_factory=dict)
    command_groups: dict[str, Any] = field(default_factory=dict)
    # Extension points a package defines for others (search's facts providers, the UI's
    # navigation, ingest's video blurrer lent to gdpr): point -> name -> value.
    extensions: defaultdict[str, dict[str, Any]] = field(default_factory=lambda: defaultdict(dict))

    # --- the job pipeline ------------------------------------------------------------------

    def add_stage(
        self,
        name: str,
        handler: StageHandler,
        *,
        memory: MemoryEstimate | None = None,
        same_worker: bool = False,
    ) -> None:
        """`memory` declares what a job of the stage needs (the runner keeps to a budget).

        `same_worker`: when the asset's stage before this one finishes, the same worker
        runs this stage's job at once instead of putting it at the end of the queue, and
        hands it what that stage left for it (`StageContext.hand_on`: a decoded picture
        that need not be decoded again)."""
        self.stages[name] = handler
        if memory is not None:
            self.memory[name] = memory
        else:
            self.memory.pop(name, None)
        if same_worker:
            self.same_worker.add(name)
        else:
            self.same_worker.discard(name)

    def add_pipeline(self, kind: AssetKind, stages: list[str]) -> None:
        """The ordered stages an asset of `kind` goes through after it is stored."""
        self.pipelines[kind] = list(stages)

    def add_stage_after(self, kind: AssetKind, after: str, stage: str) -> None:
        """Run `stage` right after `after` in `kind`'s pipeline (a plugin extending
        another's). Kept apart from the pipeline, so plugins may register in any order."""
        if (after, stage) not in self.insertions[kind]:
            self.insertions[kind].append((after, stage))

    def pipeline_for(self, kind: AssetKind) -> list[str]:
        stages = list(self.pipelines.get(kind, []))
        for after, stage in self.insertions[kind]:
            if after in stages and stage not in stages:
                stages.insert(stages.index(after) + 1, stage)
        return stages

    def add_task(
        self, name: str, handler: StageHandler, *, memory: MemoryEstimate | None = None
    ) -> None:
        """A job that is no pipeline stage (a redacted video, a ZIP, an import): its
        outcome is its own; an asset it is about keeps its status and its pipeline does
        not go on. It may be about no asset at all (`jobs.schedule`). `memory` declares
        what a job of it needs, as for a stage."""
        self.tasks[name] = handler
        if memory is not None:
            self.memory[name] = memory
        else:
            self.memory.pop(name, None)

    def add_periodic(
        self, name: str, task: PeriodicTask, *, every: timedelta | None = None
    ) -> None:
        """Run `task(runtime)` on every sweep (expiring uploads, verdict deadlines, ...), or
        at most once per `every` in each runtime (retention reads every person: hourly)."""
        self.periodic[name] = task
        if every is not None:
            self.periodic_every[name] = every

    # --- events ----------------------------------------------------------------------------

    def subscribe(self, event_type: type[E], handler: Callable[[Runtime, E], None]) -> None:
        """Call `handler(runtime, event)` for every `event_type` published (idempotent)."""
        if handler not in self.subscribers[event_type]:
            self.subscribers[event_type].append(handler)

    def unsubscribe(self, event_type: type[E], handler: Callable[[Runtime, E], None]) -> None:
        if handler in self.subscribers[event_type]:
            self.subscribers[event_type].remove(handler)

    def add_change_step(self, name: str, order: int, factory: ChangeStepFactory) -> None:
        """Give this runtime's change feed a `name` step, run in `order` (changes.JUDGE,
        changes.INDEX: verdicts before the search documents that show them)."""
        self.change_steps[name] = (order, factory)

    def build_change_steps(self, runtime: Runtime) -> list[tuple[str, ChangeStep]]:
        ordered = sorted(self.change_steps.items(), key=lambda item: (item[1][0], item[0]))
        return [(name, make(runtime)) for name, (_, make) in ordered]

    # --- checks, services, commands, extension points -------------------------------------

    def add_readiness_check(self, name: str, check: ReadinessCheck) -> None:
        """A part /readyz asks (raises when it does not answer)."""
        self.readiness[name] = check

    def add_doctor_check(self, check: DoctorCheck) -> None:
        if check not in self.doctor_checks:
            self.doctor_checks.append(check)

    def add_check_part(self, name: str, check: PartCheck) -> None:
        """Let `dam check --<name>` run a package's check (search adds "search")."""
        self.check_parts[name] = check

    def add_startup(self, name: str, check: Callable[[Runtime], None]) -> None:
        """Run `check` when job consumers start (`dam serve`, `dam worker`): a place to
        look at the machine and log what an operator should know."""
        self.startup[name] = check

    def add_service(self, name: str, factory: ServiceFactory) -> None:
        """Give the runtime a `name` service, built with it and closed with it. Factories
        must not do I/O: the runtime is built before migrations run."""
        self.services[name] = factory

    def add_command(self, name: str, command: Callable[..., Any]) -> None:
        self.commands[name] = command

    def add_command_group(self, name: str, group: Any) -> None:
        self.command_groups[name] = group

    def extend(self, point: str, name: str, value: Any) -> None:
        """Add (or replace) `name` at a package's extension point `point`."""
        self.extensions[point][name] = value

    def withdraw(self, point: str, name: str) -> None:
        self.extensions[point].pop(name, None)

    def extension(self, point: str) -> dict[str, Any]:
        """What was added at `point`, by name, in registration order."""
        return dict(self.extensions.get(point, {}))

    # --- reading it back -------------------------------------------------------------------

    def describe(self) -> dict[str, Any]:
        """The whole wiring as plain data (names, in the order they run)."""
        return {
            "plugins": list(self.plugins),
            "pipelines": {
                str(kind): self.pipeline_for(kind) for kind in sorted(self.pipelines, key=str)
            },
            "stages": {
                name: callable_name(fn)
                + (
                    " (right after the stage before, same worker)"
                    if name in self.same_worker
                    else ""
                )
                for name, fn in self.stages.items()
            },
            "tasks": {name: callable_name(fn) for name, fn in self.tasks.items()},
            "subscribers": {
                event.__name__: [callable_name(fn) for fn in handlers]
                for event, handlers in self.subscribers.items()
                if handlers
            },
            "periodic": {
                name: callable_name(fn)
                + (
                    f" (at most every {self.periodic_every[name].total_seconds():.0f} s)"
                    if name in self.periodic_every
                    else ""
                )
                for name, fn in self.periodic.items()
            },
            "change_steps": [
                [name, callable_name(make)]
                for name, (_, make) in sorted(
                    self.change_steps.items(), key=lambda item: (item[1][0], item[0])
                )
            ],
            "readiness": {name: callable_name(fn) for name, fn in self.readiness.items()},
            "startup": {name: callable_name(fn) for name, fn in self.startup.items()},
            "doctor": [callable_name(fn) for fn in self.doctor_checks],
            "check_parts": {name: callable_name(fn) for name, fn in self.check_parts.items()},
            "services": {name: callable_name(fn) for name, fn in self.services.items()},
            "commands": sorted([*self.commands, *self.command_groups]),
            "extensions": {
                point: {name: describe_value(value) for name, value in values.items()}
                for point, values in self.extensions.items()
                if values
            },
        }


def callable_name(fn: Any) -> str:
    """`module.qualname` of a function (or of a callable object's class)."""
    target = fn if hasattr(fn, "__qualname__") else type(fn)
    return f"{getattr(target, '__module__', '?')}.{getattr(target, '__qualname__', repr(fn))}"


def describe_value(value: Any) -> str:
    return callable_name(value) if callable(value) else str(value)


def runtime_of(session: Any) -> Runtime:
    """The runtime that opened `session` (its wiring, queue and services). Sessions come
    from `rt.unit_of_work()` / `rt.session()`: one opened any other way would lose the
    jobs and events it commits, so it is refused here."""
    runtime: Runtime | None = session.info.get("runtime")
    if runtime is None:
        raise RuntimeError(
            "this session was not opened by a runtime (use rt.unit_of_work() or "
            "rt.session()): its jobs and events would be lost"
        )
    return runtime
