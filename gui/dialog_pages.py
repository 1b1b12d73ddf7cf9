"""The tab pages of the E-mail Options dialog: built on demand, bound, and linked into the tab order.

The first frame needs only the tab it shows, so the dialog builds that page
first and the others right after the first frame, or when their tab is
chosen. Each page built replaces a placeholder widget in the tab widget.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer, Slot
from PySide6.QtWidgets import QWidget

from alertmail.core.settings import SERVERS

from .binding import bind_all
from .general_tab import GeneralTab

if TYPE_CHECKING:
    from .queue_tab import QueueTab
    from .server_tab import ServerTab


class DialogPages:
    """Page building of ``EmailOptionsDialog``; a mixin that uses the dialog's attributes."""

    @property
    def pages(self) -> list[GeneralTab | ServerTab | QueueTab]:
        """The pages built so far, in tab order."""
        return [self._built[key] for key in self._page_order if key in self._built]

    def _build_page(self, key: str) -> None:
        """Build the page of tab ``key`` in place of its placeholder and bind its fields."""
        if key in self._built:
            return
        if key == "general":
            page: GeneralTab | ServerTab | QueueTab = GeneralTab()
        elif key == "queue":
            page = self._build_queue_page()
        else:
            from .mail_test_panel import MailTestPanel
            from .server_tab import ServerTab

            if self.tests is None:
                self.tests = MailTestPanel(self)
            page = ServerTab(key)
            # The tab widget takes the page's size when it is inserted, so its rows come first.
            page.show_fields_for(self._working)
        self._built[key] = page
        if key in SERVERS:
            self.server_tabs[key] = page
            page.password.edited.connect(self._on_password_edited)
            page.key_field.edited.connect(self.refresh_state)
            self.tests.attach(key, page)
            if self._keyring_state is not None:
                backend, stored = self._keyring_state
                page.password.set_keyring_state(backend, stored)
                page.key_field.set_keyring_state(stored[page.key_field.entry])
        elif key == "general":
            self.general_tab = page

        new_bindings = bind_all(page.bindings())
        self.bindings.update(new_bindings)
        for binding in new_bindings.values():
            binding.on_edit(self._on_edit)
            binding.show(self._working[binding.key])

        index = self._page_order.index(key)
        current = self.tab_widget.currentIndex()
        self.tab_widget.blockSignals(True)
        placeholder = self.tab_widget.widget(index)
        self.tab_widget.removeTab(index)
        placeholder.deleteLater()
        self.tab_widget.insertTab(index, page, page.title)
        self.tab_widget.setCurrentIndex(current)
        self.tab_widget.blockSignals(False)
        self.link_focus_chain()

    def _build_queue_page(self) -> QueueTab:
        from .queue_tab import QueueTab

        page = QueueTab(self)
        self.queue_tab = page
        page.count_changed.connect(self._on_queue_count)
        # The queue is opened after the first frame; a page built later opens it at once.
        if self._painted:
            QTimer.singleShot(0, page.activate)
        return page

    @Slot(int)
    def _on_queue_count(self, _count: int) -> None:
        index = self._page_order.index("queue")
        self.tab_widget.setTabText(index, self.queue_tab.title)

    def build_all_pages(self) -> None:
        """Build every page not built yet."""
        missing = [key for key in self._page_order if key not in self._built]
        for key in missing:
            self._build_page(key)
        if missing:
            self.refresh_state()

    @Slot(int)
    def _on_current_tab(self, index: int) -> None:
        key = self._page_order[index]
        if key not in self._built:
            self._build_page(key)
            self.tab_widget.setCurrentIndex(index)
            self.refresh_state()

    def select_tab(self, key: str) -> None:
        """Show the tab called ``general``, ``primary``, ``secondary`` or ``queue``."""
        if key not in self._page_order:
            raise ValueError(f"unknown tab {key!r}: use {', '.join(self._page_order)}")
        self._build_page(key)
        self.tab_widget.setCurrentIndex(self._page_order.index(key))

    @property
    def current_tab(self) -> str:
        """The key of the tab shown: ``general``, ``primary``, ``secondary`` or ``queue``."""
        return self._page_order[self.tab_widget.currentIndex()]

    def focus_chain(self) -> list[QWidget]:
        """Return the widgets that Tab visits: the tab bar, every built page's fields, the buttons.

        The widgets of hidden pages stay in the chain, and Qt skips them, so
        Tab runs from the tab bar through the shown page to the buttons.
        """
        chain: list[QWidget] = [self.tab_widget.tabBar()]
        for page in self.pages:
            chain.extend(page.focus_chain())
        return chain + self.buttons_in_visual_order()

    def buttons_in_visual_order(self) -> list[QWidget]:
        """Return the buttons of the button box from left to right, as the platform lays them out."""
        layout = self.buttons.layout()
        found = []
        for index in range(layout.count()):
            widget = layout.itemAt(index).widget()
            if widget is not None and widget in self.buttons.buttons():
                found.append(widget)
        return found

    def link_focus_chain(self) -> None:
        """Set the tab order of the whole dialog, top to bottom, including pages built since."""
        chain = self.focus_chain()
        for before, after in zip(chain, chain[1:]):
            QWidget.setTabOrder(before, after)
