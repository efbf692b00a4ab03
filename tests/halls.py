"""Hall files built from the demo hall for tests that need other shapes (many windows, ...)."""

from __future__ import annotations

from typing import Any

from backend.hall_file import HallFile, load_demo_hall, parse_hall_data


def demo_hall_with_clerks(count: int, service_item: str = "MZ-001") -> HallFile:
    """The demo hall plus windows X01..Xnn, each with clerk xclerkNN, all serving one item."""
    data: dict[str, Any] = load_demo_hall().model_dump(mode="python")
    for n in range(1, count + 1):
        data["windows"].append(
            {
                "code": f"X{n:02d}",
                "number": 100 + n,
                "name": f"临时{n}号窗口",
                "name_en": f"Extra window {n}",
                "service_items": [service_item],
            }
        )
        data["users"].append(
            {
                "username": f"xclerk{n:02d}",
                "display_name": f"临时窗口人员{n}",
                "role": "clerk",
                "window": f"X{n:02d}",
            }
        )
    return parse_hall_data(data, "demo hall with extra clerks")
