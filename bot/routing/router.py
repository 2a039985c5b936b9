"""The routing table: (event, action) → the model a delivery is read with, a check at the door,
and the interpreter that turns it into a domain event.

The web layer reads a delivery with its route's model (`bot.routing.reading`) and asks
`admit_read` whether to queue it (from the payload alone, no GitHub request), then, for a route
that `asks` the store, `recheck` with what one store read knows
(`bot.routing.facts`); the delivery job asks `interpret` what it means. Both read the same
table, so a pair is either acted on or dropped at the door, never stored, queued and then
ignored. A door is a pure function of (delivery, facts) and admits whatever a fact it lacks
could make act: it may only err towards admitting.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from bot.github.events import WebhookEvent, read_json
from bot.workflow.events import Event

if TYPE_CHECKING:
    from bot.repo_config import RepoConfig
    from bot.routing.intake import Intake

E = TypeVar("E", bound=WebhookEvent)

#: `status` deliveries carry no action
NO_ACTION = ""


@dataclass(frozen=True)
class Ignored:
    """A delivery Triad does not act on, and why (recorded with it, never silent).

    `code` is a bounded name for the reason, for metrics; `reason` is the sentence for people.
    """

    reason: str
    code: str = "not_acted_on"


@dataclass(frozen=True)
class Routed:
    """A delivery's meaning: `event` for the workflow of issue `issue_number`.

    `source` is what the event is applied once per (default: the delivery's id); a command
    is applied once per comment and command, whatever delivery carries it.
    """

    issue_number: int
    event: Event
    source: str | None = None


@dataclass(frozen=True)
class Done:
    """A delivery acted on outside any workflow (the repository's config read again)."""

    what: str


@dataclass(frozen=True)
class DoorFacts:
    """What the web process knows without asking GitHub; None is "not known", on which a
    door admits."""

    #: Triad's own bot login, once known (e.g. "triad[bot]")
    own_login: str | None = None
    #: the repository's `.github/triad.yml` as cached in the store (by the default branch's
    #: commit), when it is cached and nothing queued may change it
    config: RepoConfig | None = None
    #: whether the store has the workflow the delivery would concern (its route's `asks`),
    #: when nothing queued for the repository may be about to create it
    workflow: bool | None = None


#: pure: why a delivery cannot concern Triad, or None to queue it
Door = Callable[[E, DoorFacts], "Ignored | None"]
Interpreter = Callable[[E, "Intake"], Awaitable["Routed | Ignored | Done"]]
#: the workflow number a door wants the store's word on (None: the repository's config only)
Asks = Callable[[E], "int | None"]


@dataclass(frozen=True)
class Route(Generic[E]):
    event: str
    action: str
    model: type[E]
    door: Door[E]
    interpret: Interpreter[E]
    #: people cause these (labels, comments, pushes): Triad's own are dropped at the door
    by_people: bool = True
    #: set when the door can use what the store knows (`DoorFacts.config`, `.workflow`)
    asks: Asks[E] | None = None


@dataclass(frozen=True)
class Admitted:
    """A delivery to queue, read with its route's model."""

    route: Route[Any]
    parsed: WebhookEvent

    @property
    def asks(self) -> tuple[bool, int | None]:
        """(whether the door can use the store's facts, the workflow number it asks about)."""
        if self.route.asks is None:
            return False, None
        return True, self.route.asks(self.parsed)


class Router:
    """One table of routes, composed from a router per concern (as bedevere does)."""

    def __init__(self, *routers: Router) -> None:
        self._routes: dict[tuple[str, str], Route[Any]] = {}
        for router in routers:
            for route in router.routes():
                self._add(route)

    def register(
        self,
        event: str,
        action: str,
        model: type[E],
        *,
        door: Door[E] | None = None,
        by_people: bool = True,
        asks: Asks[E] | None = None,
    ) -> Callable[[Interpreter[E]], Interpreter[E]]:
        """Register the decorated interpreter for (`event`, `action`); `asks` names the
        workflow the door wants the store's word on (see `DoorFacts`)."""

        def add(interpret: Interpreter[E]) -> Interpreter[E]:
            self._add(Route(event, action, model, door or _open, interpret, by_people, asks))
            return interpret

        return add

    def _add(self, route: Route[Any]) -> None:
        key = (route.event, route.action)
        if key in self._routes:
            raise ValueError(f"{route.event}.{route.action or '(no action)'} is routed twice")
        self._routes[key] = route

    def routes(self) -> Iterable[Route[Any]]:
        return self._routes.values()

    def route(self, event: str, action: str | None) -> Route[Any] | None:
        return self._routes.get((event, action or NO_ACTION))

    def events(self) -> set[str]:
        """The events some route acts on (what the App must subscribe to)."""
        return {route.event for route in self._routes.values()}

    def admit(
        self, event: str, action: str | None, body: bytes, facts: DoorFacts
    ) -> Admitted | Ignored:
        """Queue or drop a stored delivery, decided from its body alone; raises `Unreadable`
        when a routed delivery's body is not JSON or lacks a field its route needs."""
        route = self.route(event, action)
        if route is None:
            return unrouted(event, action)
        return self.admit_read(route, read_json(route.model, body), facts)

    @staticmethod
    def admit_read(route: Route[Any], parsed: WebhookEvent, facts: DoorFacts) -> Admitted | Ignored:
        """`admit` for a delivery already read with its route's model."""
        if parsed.installation is None or parsed.repository is None:
            return Ignored(
                "the delivery names no App installation or repository", "no_installation"
            )
        if route.by_people and facts.own_login and parsed.sender.login == facts.own_login:
            return Ignored("Triad's own event", "own_event")
        return route.door(parsed, facts) or Admitted(route, parsed)

    @staticmethod
    def recheck(admitted: Admitted, facts: DoorFacts) -> Admitted | Ignored:
        """The door of an admitted delivery again, with what the store knows."""
        return admitted.route.door(admitted.parsed, facts) or admitted


def unrouted(event: str, action: str | None) -> Ignored:
    """Why a pair without a route is dropped."""
    return Ignored(f"Triad does not act on {_name(event, action)}", "no_route")


def _open(_event: WebhookEvent, _facts: DoorFacts) -> Ignored | None:
    return None


def config_only(_event: WebhookEvent) -> None:
    """`asks` for a door that wants the repository's config and no workflow."""
    return None


def no_workflow(facts: DoorFacts, what: str) -> Ignored | None:
    """Dropped when the store shows no workflow for `what` (unknown: admitted)."""
    if facts.workflow is False:
        return Ignored(f"Triad has no workflow for {what}", "no_workflow")
    return None


def _name(event: str, action: str | None) -> str:
    return f"{event}.{action}" if action else event
