"""Provides the hall simulator behind `workbench simulate` and `workbench demo`.

Visitors arrive at the self-service terminal as a Poisson process whose rate follows a working
day's curve in the hall's time (a morning and an afternoon peak, few visitors outside opening
hours), online applications arrive at their own rate, and optional simulated clerks call, serve
and finish tickets, so a demo hall is alive. `--as-open` simulates opening hours at any time.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import math
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from backend.hall.hall_file import HallFile, load_demo_hall
from backend.hall.seed import DEMO_PASSWORD

OUTCOMES = ("completed", "completed", "completed", "case_opened", "information_only", "referred")
OPENS, CLOSES = 8.5, 17.5
"""The demo hall's opening hours, in the hall's time."""
CLOSED_RATE = 0.15
PROGRESS_SECONDS = 30.0


def is_open(hour: float) -> bool:
    return OPENS <= hour <= CLOSES


def day_curve(hour: float) -> float:
    """Relative arrival rate over the day: low outside 8:30–17:30, peaks near 10:00 and 15:00."""
    if not is_open(hour):
        return CLOSED_RATE
    morning = math.exp(-((hour - 10.0) ** 2) / 1.5)
    afternoon = 0.8 * math.exp(-((hour - 15.0) ** 2) / 1.5)
    return max(0.25, morning + afternoon)


@dataclass
class SimulationConfig:
    server: str
    password: str = DEMO_PASSWORD
    tickets_per_minute: float = 2.0
    online_per_minute: float = 0.5
    clerks: int = 0
    speed: float = 1.0
    duration: float = 0.0
    seed: int | None = None
    as_open: bool = False
    """Visitors arrive as in opening hours whatever the hall's clock says."""
    timezone: str = "Asia/Shanghai"
    """The hall's time zone: opening hours are the hall's, not this machine's."""
    report: Callable[[str], None] | None = None
    """Where to say what the simulator is doing (`workbench simulate` prints; the demo's TUI
    must not be written over)."""


def closed_hours_note(now: datetime, config: SimulationConfig) -> str | None:
    """Why few visitors arrive now, or None while the hall is open (or simulated open)."""
    hour = now.hour + now.minute / 60
    if config.as_open or is_open(hour):
        return None
    per_minute = config.tickets_per_minute * CLOSED_RATE * config.speed
    every = f"about one every {1 / per_minute:.0f} minutes" if per_minute > 0 else "none"
    return (
        f"The hall's time is {now:%H:%M} ({config.timezone}), outside opening hours "
        f"{int(OPENS):02d}:{int(OPENS % 1 * 60):02d}–{int(CLOSES):02d}:{int(CLOSES % 1 * 60):02d}"
        f": few visitors arrive ({every}). Add --as-open to simulate opening hours now."
    )


def _key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


class HallSimulator:
    """Feeds a running backend through its public API, as terminals, the portal and clerks."""

    def __init__(self, config: SimulationConfig, hall: HallFile | None = None) -> None:
        self.config = config
        self.hall = hall or load_demo_hall()
        self.rng = random.Random(config.seed)
        self.issued = 0
        self.applications = 0
        self.served = 0
        self.zone = ZoneInfo(config.timezone)

    def _say(self, line: str) -> None:
        if self.config.report is not None:
            self.config.report(line)

    def hall_now(self) -> datetime:
        return datetime.now(self.zone)

    async def _login(self, client: httpx.AsyncClient, username: str, window: str | None) -> bool:
        body: dict[str, Any] = {"username": username, "password": self.config.password}
        if window:
            body["window"] = window
        response = await client.post("/api/v1/auth/login", json=body)
        if response.status_code != 200:
            try:
                detail = response.json().get("detail", "") if response.content else ""
            except ValueError:
                detail = ""
            self._say(f"{username} could not log in ({response.status_code} {detail}).")
            return False
        client.headers["Authorization"] = f"Bearer {response.json()['token']}"
        return True

    def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.config.server, timeout=10.0)

    async def run(self) -> None:
        config = self.config
        self._say(
            f"Simulating the hall at {config.server}: visitors at the terminal (up to "
            f"{config.tickets_per_minute:g}/min), online applications "
            f"({config.online_per_minute:g}/min), {config.clerks} simulated clerks, time "
            f"x{config.speed:g}."
        )
        note = closed_hours_note(self.hall_now(), config)
        if note is not None:
            self._say(note)
        tasks = [self._terminal(), self._portal()]
        if config.report is not None:
            tasks.append(self._progress())
        clerks = [u for u in self.hall.users if u.role == "clerk" and u.window]
        tasks += [self._clerk(u.username, u.window or "") for u in clerks[: self.config.clerks]]
        if self.config.duration > 0:
            await asyncio.wait_for(asyncio.gather(*tasks), self.config.duration)
        else:
            await asyncio.gather(*tasks)

    async def open_the_day(self, visitors_per_window: int = 2) -> int:
        """Visitors already waiting when the demo opens, a few for each window, so the first
        call a new user makes finds someone. Returns how many tickets were issued."""
        async with self._client() as client:
            if not await self._login(client, "terminal01", None):
                return 0
            issued = 0
            for window in self.hall.windows:
                for _ in range(visitors_per_window):
                    body = {"service_item": self.rng.choice(window.service_items)}
                    response = await client.post("/api/v1/tickets", json=body, headers=_key())
                    issued += response.status_code == 201
            self.issued += issued
            return issued

    async def _post(
        self, client: httpx.AsyncClient, path: str, json: Any = None
    ) -> httpx.Response | None:
        """One change as the hall makes it; a server that does not answer is said and waited
        for (the simulated hall goes on when it is back), never the end of the simulation."""
        try:
            return await client.post(path, json=json, headers=_key())
        except httpx.HTTPError as exc:
            self._say(f"{path}: the server did not answer ({type(exc).__name__}); trying again.")
            await asyncio.sleep(5 / max(self.config.speed, 1.0))
            return None

    async def _progress(self) -> None:
        while True:
            await asyncio.sleep(PROGRESS_SECONDS)
            self._say(
                f"  … {self.issued} tickets issued, {self.applications} online applications, "
                f"{self.served} visitors served"
            )

    async def _sleep_exponential(self, per_minute: float) -> None:
        now = self.hall_now()
        hour = now.hour + now.minute / 60
        curve = 1.0 if self.config.as_open and not is_open(hour) else day_curve(hour)
        rate = max(per_minute * curve, 1e-3) / 60.0 * self.config.speed
        await asyncio.sleep(self.rng.expovariate(rate))

    async def _terminal(self) -> None:
        if self.config.tickets_per_minute <= 0:
            return
        async with self._client() as client:
            if not await self._login(client, "terminal01", None):
                return
            items = [i.code for i in self.hall.service_items]
            classes = [c.code for c in self.hall.priority_classes if c.code != "appointment"]
            while True:
                await self._sleep_exponential(self.config.tickets_per_minute)
                body: dict[str, Any] = {"service_item": self.rng.choice(items)}
                if self.rng.random() < 0.12:
                    body["priority_class"] = self.rng.choice(classes)
                response = await self._post(client, "/api/v1/tickets", json=body)
                self.issued += response is not None and response.status_code == 201

    async def _portal(self) -> None:
        if self.config.online_per_minute <= 0:
            return
        async with self._client() as client:
            if not await self._login(client, "portal01", None):
                return
            people = [a for a in self.hall.applicants if a.kind == "person"]
            items = [i for i in self.hall.service_items if i.online]
            while True:
                await self._sleep_exponential(self.config.online_per_minute)
                item = self.rng.choice(items)
                person = self.rng.choice(people)
                response = await self._post(
                    client, "/api/v1/cases", json=self._application(item, person)
                )
                self.applications += response is not None and response.status_code == 201

    def _application(self, item: Any, person: Any) -> dict[str, Any]:
        uploads = []
        for material in item.materials:
            if material.mandatory or self.rng.random() < 0.5:
                content = f"{person.id_number}:{material.code}".encode()
                uploads.append(
                    {
                        "material": material.code,
                        "file_name": f"{material.code}.pdf",
                        "content_type": "application/pdf",
                        "size": self.rng.randint(40_000, 2_000_000),
                        "sha256": hashlib.sha256(content).hexdigest(),
                    }
                )
        applicant = {
            "kind": "person",
            "id_number": person.id_number,
            "name": person.name,
            "phone": person.phone,
        }
        return {
            "service_item": item.code,
            "channel": "online",
            "applicant": applicant,
            "materials": uploads,
        }

    async def _clerk(self, username: str, window: str) -> None:
        async with self._client() as client:
            if not await self._login(client, username, window):
                return
            while True:
                response = await self._post(client, f"/api/v1/windows/{window}/call-next")
                if response is None or response.status_code != 200:
                    await asyncio.sleep(self.rng.uniform(5, 15) / self.config.speed)
                    continue
                await self._serve(client, response.json())

    async def _serve(self, client: httpx.AsyncClient, ticket: dict[str, Any]) -> None:
        path = f"/api/v1/tickets/{ticket['id']}"
        await asyncio.sleep(self.rng.uniform(5, 20) / self.config.speed)
        if self.rng.random() < 0.06:
            await self._post(client, f"{path}/no-show")
            return
        await self._post(client, f"{path}/start")
        await asyncio.sleep(self.rng.uniform(60, 480) / self.config.speed)
        outcome = self.rng.choice(OUTCOMES)
        finished = await self._post(client, f"{path}/finish", json={"outcome": outcome})
        self.served += finished is not None and finished.status_code == 200


def run_simulation(args: argparse.Namespace) -> int:
    config = SimulationConfig(
        server=args.server,
        password=args.password or DEMO_PASSWORD,
        tickets_per_minute=args.rate,
        online_per_minute=args.online_rate,
        clerks=args.clerks,
        speed=args.speed,
        duration=args.duration,
        seed=args.seed,
        as_open=args.as_open,
        report=lambda line: print(line, flush=True),
    )
    simulator = HallSimulator(config)
    try:
        asyncio.run(simulator.run())
    except TimeoutError:
        pass
    except httpx.HTTPError as exc:
        print(f"workbench simulate: cannot reach {config.server}: {exc}")
        return 1
    print(
        f"Simulated {simulator.issued} tickets, {simulator.applications} online applications, "
        f"{simulator.served} visitors served."
    )
    return 0
