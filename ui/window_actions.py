"""The main window's actions and menus (File, Edit, View, Help), as a mixin of
``ui.main_window.MainWindow``: the slots they call live on the window."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QAction, QKeySequence

from ui.window_pages import NAV_PAGES


class WindowActionsMixin:
    """Builds the window's actions and menus; needs the window's ``settings``,
    ``details``, ``editor`` and the slots the actions trigger."""

    def _action(self, text: str, slot: object, shortcut: object = None, tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            if isinstance(shortcut, list):
                action.setShortcuts(shortcut)
            else:
                action.setShortcut(shortcut)
        if tip:
            action.setStatusTip(tip)
        action.triggered.connect(slot)
        return action

    def _build_actions(self) -> None:
        key = QKeySequence.StandardKey
        self.new_action = self._action(
            "&New Inventory…", self.new_inventory, key.New, "Create a new, empty inventory file"
        )
        self.open_action = self._action(
            "&Open…", self.open_inventory_dialog, key.Open, "Open an inventory file"
        )
        self.demo_action = self._action(
            "Open &Demo Inventory",
            self.open_demo,
            tip="Open an example inventory with realistic data",
        )
        self.save_copy_action = self._action(
            "Save a &Copy…",
            self.save_copy,
            QKeySequence("Ctrl+Shift+S"),
            "Write a consistent copy of this inventory",
        )
        self.close_action = self._action("&Close Inventory", self.close_inventory, key.Close)
        self.import_action = self._action(
            "&Import…",
            lambda: self.start_import(),
            QKeySequence("Ctrl+I"),
            "Import spreadsheets, CSV files and CodeCarbon logs into this inventory",
        )
        self.export_action = self._action(
            "&Export…", self.export_inventory, tip="Write this inventory to XLSX, CSV or JSON"
        )
        self.import_history_action = self._action(
            "Import &History…",
            self.show_import_history,
            tip="The imports recorded in this inventory; undo one of them",
        )
        self.template_action = self._action(
            "Save Import &Template…",
            self.save_import_template,
            tip="Save an empty workbook with the columns the import expects",
        )
        self.quit_action = self._action("&Quit", self.close, key.Quit)
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)

        self.add_action = self._action(
            "&Add…",
            lambda: self._page_call("add_record"),
            [QKeySequence("Ctrl+Shift+A"), QKeySequence("Ins")],
            "Add a record to this page",
        )
        self.edit_action = self._action(
            "&Edit…",
            lambda: self._page_call("edit_record"),
            QKeySequence("F2"),
            "Edit the selected record",
        )
        self.duplicate_action = self._action(
            "D&uplicate",
            lambda: self._page_call("duplicate_record"),
            QKeySequence("Ctrl+D"),
            "Copy the selected record",
        )
        self.delete_action = self._action(
            "&Delete",
            lambda: self._page_call("delete_records"),
            key.Delete,
            "Delete the selected records",
        )
        self.find_action = self._action(
            "&Find", lambda: self._page_call("focus_search"), key.Find, "Search this page"
        )
        self.about_action = self._action(
            "&About AI Carbon Ledger and Data Sources", self.show_about
        )
        self.explain_action = self._action(
            "E&xplain…",
            lambda: self._page_call("explain_record"),
            QKeySequence("Ctrl+E"),
            "How the selected training run's or deployment's emissions were reached",
        )
        self.report_action = self._action(
            "&Report…",
            self.show_report_dialog,
            QKeySequence.StandardKey.Print,
            "Preview, print or save the quarterly report; close a reported quarter",
        )
        self.settings_action = self._action(
            "Inventory &Settings…",
            self.edit_inventory_settings,
            tip="How this inventory counts the embodied emissions of hardware",
        )
        self.page_actions = [
            self.add_action,
            self.edit_action,
            self.duplicate_action,
            self.delete_action,
            self.find_action,
            self.explain_action,
        ]

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addActions([self.new_action, self.open_action])
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        file_menu.addAction(self.demo_action)
        file_menu.addSeparator()
        file_menu.addActions(
            [
                self.import_action,
                self.import_history_action,
                self.export_action,
                self.template_action,
            ]
        )
        file_menu.addSeparator()
        file_menu.addAction(self.report_action)
        file_menu.addSeparator()
        file_menu.addActions([self.save_copy_action, self.close_action])
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)

        self.edit_menu = bar.addMenu("&Edit")
        self.undo_placeholder = self.edit_menu.addAction("&Undo")
        self.undo_placeholder.setShortcut(QKeySequence.StandardKey.Undo)
        self.undo_placeholder.setEnabled(False)
        self.redo_placeholder = self.edit_menu.addAction("&Redo")
        self.redo_placeholder.setShortcuts(
            [QKeySequence("Ctrl+Shift+Z"), QKeySequence(QKeySequence.StandardKey.Redo)]
        )
        self.redo_placeholder.setEnabled(False)
        self.edit_menu.addSeparator()
        self.edit_menu.addActions(self.page_actions)
        self.edit_menu.addSeparator()
        self.edit_menu.addAction(self.settings_action)

        self.view_menu = bar.addMenu("&View")
        for i, (key, label) in enumerate(NAV_PAGES):
            action = self._action(label, lambda _=False, k=key: self.show_page(k))
            if i < 9:
                action.setShortcut(QKeySequence(f"Ctrl+{i + 1}"))
            self.view_menu.addAction(action)
        self.view_menu.addSeparator()
        self.details_action = self.details.toggleViewAction()
        self.details_action.setText("&Details")
        self.details_action.setShortcut(QKeySequence("F9"))
        self.details_action.setStatusTip(
            "Show or hide the selected entry's figures and how they were reached"
        )
        self.view_menu.addAction(self.details_action)

        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self.about_action)

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = self.settings.recent_files()
        for path in recent:
            self.recent_menu.addAction(
                Path(path).name, lambda _=False, p=path: self.open_inventory(p)
            ).setStatusTip(path)
        if not recent:
            self.recent_menu.addAction("No recent inventories").setEnabled(False)

    def _install_undo_actions(self) -> None:
        for action in self.edit_menu.actions()[:2]:
            self.edit_menu.removeAction(action)
        first = self.edit_menu.actions()[0] if self.edit_menu.actions() else None
        if self.editor is None:
            undo, redo = self.undo_placeholder, self.redo_placeholder
        else:
            undo = self.editor.stack.createUndoAction(self, "&Undo")
            undo.setShortcut(QKeySequence.StandardKey.Undo)
            redo = self.editor.stack.createRedoAction(self, "&Redo")
            redo.setShortcuts(
                [QKeySequence("Ctrl+Shift+Z"), QKeySequence(QKeySequence.StandardKey.Redo)]
            )
        self.edit_menu.insertActions(first, [undo, redo])
        self.undo_action, self.redo_action = undo, redo
