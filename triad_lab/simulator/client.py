"""Clients of the simulator's and the fake model server's scripting APIs, for a harness that runs
them as processes (`triad simulator`, `python -m triad_lab.simulator.model_server`): people,
CI, faults and model latency for many issues at once, over HTTP, never reaching inside."""

from __future__ import annotations

from typing import Any

import httpx


class SimulatorClient:
    """`/_simulator/...` of a running GitHub simulator."""

    def __init__(self, url: str, timeout: float = 30.0) -> None:
        self._http = httpx.AsyncClient(base_url=f"{url}/_simulator", timeout=timeout)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _call(self, method: str, path: str, body: Any = None) -> Any:
        response = await self._http.request(method, path, json=body)
        response.raise_for_status()
        return response.json()

    async def _object(self, path: str) -> dict[str, Any]:
        """GET `path`, whose answer is a JSON object."""
        answer: dict[str, Any] = await self._call("GET", path)
        return answer

    async def _list(self, path: str) -> list[dict[str, Any]]:
        """GET `path`, whose answer is a JSON list of objects."""
        answer: list[dict[str, Any]] = await self._call("GET", path)
        return answer

    async def app(self) -> dict[str, Any]:
        return await self._object("/app")

    async def open_issue(self, repo: str, actor: str, title: str, body: str = "") -> int:
        made = await self._call(
            "POST", f"/repos/{repo}/issues", {"actor": actor, "title": title, "body": body}
        )
        return int(made["number"])

    async def add_label(self, repo: str, number: int, actor: str, name: str) -> None:
        await self._call(
            "POST", f"/repos/{repo}/issues/{number}/labels", {"actor": actor, "name": name}
        )

    async def comment(self, repo: str, number: int, actor: str, body: str) -> None:
        await self._call(
            "POST", f"/repos/{repo}/issues/{number}/comments", {"actor": actor, "body": body}
        )

    async def complete_checks(self, repo: str, sha: str, conclusion: str) -> None:
        await self._call("POST", f"/repos/{repo}/checks", {"sha": sha, "conclusion": conclusion})

    async def state(self, repo: str) -> dict[str, Any]:
        """Issues, PRs (reviews, commits), branches and CI verdicts, as people see them."""
        return await self._object(f"/repos/{repo}/state")

    async def fault(self, **fault: Any) -> int:
        """method, path, and one of: status (fail), after (carry out, then answer status),
        hold ("before" or "after"), latency; times. Returns the fault's id."""
        return int((await self._call("POST", "/faults", fault))["id"])

    async def clear_faults(self) -> None:
        await self._call("DELETE", "/faults")

    async def remove_fault(self, fault_id: int) -> bool:
        """Forget one pending fault, leaving the others armed."""
        return bool((await self._call("DELETE", f"/faults/{fault_id}"))["removed"])

    async def faults(self) -> dict[int, int]:
        """Every fault injected so far, by id: how many requests it was used for."""
        return {int(f["id"]): int(f["used"]) for f in (await self.health())["faults"]}

    async def held(self) -> list[dict[str, Any]]:
        return await self._list("/held")

    async def release(self, held_id: int | None = None) -> int:
        return int((await self._call("POST", "/held/release", {"id": held_id}))["released"])

    async def deliveries(self) -> list[dict[str, Any]]:
        return await self._list("/deliveries")

    async def redeliver(self, delivery_id: str) -> None:
        await self._call("POST", f"/deliveries/{delivery_id}/redeliver")

    async def duplicate_deliveries(self, count: int) -> None:
        await self._call("POST", "/deliveries/duplicate", {"count": count})

    async def health(self) -> dict[str, Any]:
        """The simulator's own crashes and the endpoints it lacks (a run should see none), and
        every fault injected with how many requests it was used for, and how many API requests
        it answered on how many connections."""
        return await self._object("/health")


class ModelServerClient:
    """`/_script/...` of a running fake model server."""

    def __init__(self, url: str, timeout: float = 30.0) -> None:
        self._http = httpx.AsyncClient(base_url=f"{url}/_script", timeout=timeout)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def latency(self, seconds: float) -> None:
        (await self._http.post("/latency", json={"seconds": seconds})).raise_for_status()

    async def outage(self, pattern: str = "*", status: int = 529, times: int = 1) -> None:
        """The next `times` requests for models matching `pattern` fail with `status`."""
        body = {"pattern": pattern, "status": status, "times": times}
        (await self._http.post("/faults", json=body)).raise_for_status()

    async def requests(self) -> dict[str, Any]:
        response = await self._http.get("/requests")
        response.raise_for_status()
        answer: dict[str, Any] = response.json()
        return answer
