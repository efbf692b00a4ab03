"""Provides `Trends`: the day's tickets and waits by the quarter hour (sparklines), and the
satisfaction with the newest bad ratings."""

from __future__ import annotations

from datetime import datetime

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Sparkline

from screens.board.lines import QuietLabel, QuietStatic
from workbench.board_state import BoardState
from workbench.i18n import t

__all__ = ["BAD_RATINGS_SHOWN", "Trends"]

BAD_RATINGS_SHOWN = 5


class Trends(Vertical):
    """The trends column of the board."""

    def compose(self) -> ComposeResult:
        yield QuietLabel(t("board.trend.tickets"), id="board-tickets-label")
        yield Sparkline([], id="board-tickets-spark")
        yield QuietLabel(t("board.trend.wait"), id="board-wait-label")
        yield Sparkline([], id="board-wait-spark")
        yield QuietStatic("", id="board-satisfaction")

    def paint(self, state: BoardState, now: datetime) -> None:
        tickets, waits = state.quarter_series(now)
        series = {"#board-tickets-spark": [float(n) for n in tickets], "#board-wait-spark": waits}
        for spark_id, values in series.items():
            # Sparkline scales min..max, so an all-zero day would draw as full bars
            data = values if any(values) else []
            spark = self.query_one(spark_id, Sparkline)
            if spark.data != data:
                spark.data = data
        count = tickets[-1] if tickets else 0
        self.query_one("#board-tickets-label", QuietLabel).show(
            t("board.trend.tickets_now", count=count)
        )
        minutes = f"{waits[-1]:.1f}" if waits else "0"
        self.query_one("#board-wait-label", QuietLabel).show(
            t("board.trend.wait_now", minutes=minutes)
        )
        ratings = state.ratings
        rate = "-" if ratings.rate is None else f"{100 * ratings.rate:.0f}%"
        lines = [t("board.satisfaction", rate=rate, count=ratings.count, bad=len(ratings.bad))]
        lines += [
            t("board.bad_rating", score=r["score"], subject=r["subject"], clerk=r["clerk"] or "-")
            for r in list(ratings.bad)[:BAD_RATINGS_SHOWN]
        ]
        self.query_one("#board-satisfaction", QuietStatic).show("\n".join(lines))
