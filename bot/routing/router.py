"""The routing table: (event, action) → the model a delivery is read with, a check at the door,
and the interpreter that turns it into a domain event.

The web layer asks `admit` whether to queue a delivery (from the payload alone, no GitHub
request); the delivery job asks `interpret` what it means. Both read the same table, so a pair
is either acted on or dropped at the door, never stored, queued and then ignored.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from bot.github.events import WebhookEvent
from bot.workflow.events import Event

if TYPE_CHECKING:
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
    is applied once per comment, whatever delivery carries it.
    """

    issue_number: int
    event: Event
    source: str | None = None


@dataclass(frozen=True)
class DoorFacts:
    """What the web process knows without asking GitHub."""

    #: Triad's own bot login, once known (e.g. "triad[bot]")
    own_login: str | None = None


#: pure: why a delivery cannot concern Triad, or None to queue it
Door = Callable[[E, DoorFacts], "Ignored | None"]
Interpreter = Callable[[E, "Intake"], Awaitable["Routed | Ignored"]]


@dataclass(frozen=True)
class Route(Generic[E]):
    event: str
    action: str
    model: type[E]
    door: Door[E]
    interpret: Interpreter[E]
    #: people cause these (labels, comments, pushes): Triad's own are dropped at the door
    by_people: bool = True


@dataclass(frozen=True)
class Admitted:
    """A delivery to queue, read with its route's model."""

    route: Route[Any]
    parsed: WebhookEvent


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
    ) -> Callable[[Interpreter[E]], Interpreter[E]]:
        """Register the decorated interpreter for (`event`, `action`)."""

        def add(interpret: Interpreter[E]) -> Interpreter[E]:
            self._add(Route(event, action, model, door or _open, interpret, by_people))
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
        self, event: str, action: str | None, payload: dict[str, Any], facts: DoorFacts
    ) -> Admitted | Ignored:
        """Queue or drop, decided from the payload alone; raises pydantic's ValidationError
        when a routed delivery lacks a field its route needs."""
        route = self.route(event, action)
        if route is None:
            return Ignored(f"Triad does not act on {_name(event, action)}", "no_route")
        parsed = route.model.model_validate(payload)
        if parsed.installation is None or parsed.repository is None:
            return Ignored(
                "the delivery names no App installation or repository", "no_installation"
            )
        if route.by_people and facts.own_login and parsed.sender.login == facts.own_login:
            return Ignored("Triad's own event", "own_event")
        return route.door(parsed, facts) or Admitted(route, parsed)


def _open(_event: WebhookEvent, _facts: DoorFacts) -> Ignored | None:
    return None


def _name(event: str, action: str | None) -> str:
    return f"{event}.{action}" if action else event
