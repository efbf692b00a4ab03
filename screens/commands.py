"""Provides `ScreenCommands`: the command palette's view of the current screen's actions.

Every enabled binding of the screen becomes a command (named and explained in the current
language); a screen may add more through `palette_commands()` (the case screen offers each
decision directly).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from typing import Protocol, runtime_checkable

from textual.command import DiscoveryHit, Hit, Hits, Provider

from workbench.i18n import t

__all__ = ["PaletteCommand", "ScreenCommands"]

PaletteCommand = tuple[str, str, Callable[[], object]]


@runtime_checkable
class HasPaletteCommands(Protocol):
    def palette_commands(self) -> Iterable[PaletteCommand]: ...


class ScreenCommands(Provider):
    """The actions that make sense on the screen the palette was opened from."""

    def _commands(self) -> list[PaletteCommand]:
        screen = self.screen
        commands: list[PaletteCommand] = []
        seen: set[str] = set()
        for active in screen.active_bindings.values():
            binding = active.binding
            if not active.enabled or binding.system or binding.action in seen:
                continue
            seen.add(binding.action)
            title = t(binding.description)
            key = self.app.get_key_display(binding)
            help_text = f"{key} · {t(binding.tooltip)}" if binding.tooltip else key
            commands.append((title, help_text, partial(screen.run_action, binding.action)))
        if isinstance(screen, HasPaletteCommands):
            commands.extend(screen.palette_commands())
        return commands

    async def discover(self) -> Hits:
        for title, help_text, callback in self._commands():
            yield DiscoveryHit(title, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, callback in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, help=help_text)
