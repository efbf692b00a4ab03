"""Hall files built from the demo hall for tests that need other shapes (many windows, ...)."""

from __future__ import annotations

from backend.hall.hall_file import HallFile, load_demo_hall
from backend.hall.seed import hall_with_extra_clerks


def demo_hall_with_clerks(count: int, service_item: str = "MZ-001") -> HallFile:
    """The demo hall plus windows X01..Xnn, each with clerk xclerkNN, all serving one item."""
    return hall_with_extra_clerks(load_demo_hall(), count, service_item)
