"""Provides `KeyBar`: the footer line of keys, translated, with live labels (recall countdown)."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from textual.binding import Binding
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Static

from screens.stylesheets import beside
from workbench.i18n import t

__all__ = ["KeyBar", "LabelledScreen"]


@runtime_checkable
class LabelledScreen(Protocol):
    def binding_label(self, binding: Binding) -> str | None:
        """A live label for a binding (e.g. "Recall (12 s)"), or None for the usual one."""


class KeyBar(Static):
    """Shows the screen's visible bindings as `key label` pairs; dims the disabled ones."""

    DEFAULT_CSS = beside(__file__)

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self.render_keys()

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, _screen: Screen[object]) -> None:
        self.render_keys()

    def render_keys(self) -> None:
        screen = self.screen
        parts: list[Content] = []
        seen: set[str] = set()
        for active in screen.active_bindings.values():
            binding = active.binding
            if not binding.show or binding.action in seen:
                continue
            seen.add(binding.action)
            label = None
            if isinstance(screen, LabelledScreen):
                label = screen.binding_label(binding)
            text = label or t(binding.description)
            key = self.app.get_key_display(binding)
            style = "bold $primary" if active.enabled else "dim"
            parts.append(
                Content.assemble((key, style), " ", (text, "" if active.enabled else "dim"))
            )
        self.update(Content("  ").join(parts))
