"""Lays out and paints report tables: columns sized to their headers and numbers, the
title and header repeated on every page a table continues on, a row never split, numbers
right-aligned (their units are in the header). Sizes are device pixels."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt

from core.report_model import Table
from ui.report_canvas import RenderCancelled, ReportCanvas
from ui.report_style import HEADER_FILL, MUTED, TEXT, ZEBRA

#: a table starts on the current page when its title, header and this many rows fit
#: (all of them if it has fewer); the rest continues on the next page
MIN_TABLE_ROWS = 3


class TablePainter(ReportCanvas):
    """Tables of a report, continued across pages."""

    def _table(self, table: Table) -> None:
        pad = self.pt(3)
        rows = [(table.formatted(r), "table", i % 2 == 1) for i, r in enumerate(table.rows)]
        if table.total is not None:
            rows.append((table.formatted(table.total), "table_bold", False))
        widths = self._column_widths(table, rows, pad)
        xs = [sum(widths[:i]) for i in range(len(widths))]
        title_h = self.text_height(table.title, "h2", self.width) + self.pt(4)
        header_cells = [c.title for c in table.columns]
        header_h = (
            max(
                self.text_height(t, "table_bold", w - 2 * pad)
                for t, w in zip(header_cells, widths, strict=True)
            )
            + 2 * pad
        )

        def row_height(cells: list[str], font: str) -> float:
            h = 0.0
            for text, w, col in zip(cells, widths, table.columns, strict=True):
                if col.numeric:
                    continue
                h = max(h, self.text_height(text, font, w - 2 * pad))
            return max(h, self.metrics[font].height()) + 2 * pad

        def start(continued: bool) -> None:
            title = table.title + ("  (continued)" if continued else "")
            y = self.y
            self.add(
                lambda p, y=y: self._draw_text(
                    p, QRectF(0, y, self.width, title_h), title, "h2", TEXT
                )
            )
            y += title_h
            self.add(
                lambda p, y=y: self._header_row(
                    p, y, header_h, header_cells, xs, widths, table, pad
                )
            )
            self.y = y + header_h

        # start here if the title, the header and the first rows fit, else on a new page
        first_h = sum(row_height(c, f) for c, f, _ in rows[:MIN_TABLE_ROWS])
        if len(rows) == MIN_TABLE_ROWS + 1:  # never leave the total row alone
            first_h += row_height(rows[-1][0], rows[-1][1])
        self.ensure(title_h + header_h + first_h)
        start(False)
        if not rows:
            h = self.metrics["table"].height() + 2 * pad
            self.add(
                lambda p, y=self.y: self._draw_text(
                    p,
                    QRectF(pad, y + pad, self.width, h),
                    "No entries in this period.",
                    "table",
                    MUTED,
                )
            )
            self.y += h
        for n, (cells, font, zebra) in enumerate(rows):
            if n % 500 == 0 and self.cancelled():
                raise RenderCancelled
            h = row_height(cells, font)
            if h > self.room():
                self.new_page()
                start(True)
            is_total = font == "table_bold" and table.total is not None and n == len(rows) - 1
            self.add(
                lambda p, y=self.y, c=cells, f=font, z=zebra, h=h, t=is_total: self._body_row(
                    p, y, h, c, xs, widths, table, pad, f, z, t
                )
            )
            self.y += h
        self.add(lambda p, y=self.y: self._rule(p, y, 0.8))
        self.y += self.pt(4)
        if table.note:
            h = self.text_height(table.note, "small", self.width)
            self.ensure(h)
            self.add(
                lambda p, y=self.y, h=h: self._draw_text(
                    p, QRectF(0, y, self.width, h), table.note, "small", MUTED
                )
            )
            self.y += h
        self.y += self.pt(12)

    def _column_widths(
        self, table: Table, rows: list[tuple[list[str], str, bool]], pad: float
    ) -> list[float]:
        """Column widths in proportion to ``Column.width``, widened where a header word
        or a number (neither wraps) would not fit, taking the room from columns with
        room to spare."""
        total_w = sum(c.width for c in table.columns)
        widths = [self.width * c.width / total_w for c in table.columns]
        bold = self.metrics["table_bold"]
        need = []
        for i, col in enumerate(table.columns):
            words = col.title.split()
            w = max((bold.horizontalAdvance(word) for word in words), default=0.0)
            if col.numeric:  # numbers never wrap: the widest must fit (totals are bold)
                w = max([w, *(bold.horizontalAdvance(cells[i]) for cells, _, _ in rows)])
            need.append(w + 2 * pad + self.pt(1))
        short = sum(max(n - w, 0.0) for n, w in zip(need, widths, strict=True))
        spare = [max(w - n, 0.0) for n, w in zip(need, widths, strict=True)]
        if short <= 0 or sum(spare) <= short:
            return widths  # fits as is, or cannot be helped (text then wraps or clips)
        scale = short / sum(spare)
        return [
            max(n, w - s * scale) if n > w else w - s * scale
            for n, w, s in zip(need, widths, spare, strict=True)
        ]

    def _header_row(self, p, y, h, cells, xs, widths, table, pad) -> None:
        p.fillRect(QRectF(0, y, self.width, h), HEADER_FILL)
        self._rule(p, y, 0.8)
        for text, x, w, col in zip(cells, xs, widths, table.columns, strict=True):
            align = Qt.AlignmentFlag.AlignRight if col.numeric else Qt.AlignmentFlag.AlignLeft
            self._draw_text(
                p,
                QRectF(x + pad, y + pad, w - 2 * pad, h - 2 * pad),
                text,
                "table_bold",
                TEXT,
                align | Qt.AlignmentFlag.AlignBottom,
            )
        self._rule(p, y + h, 0.5)

    def _body_row(self, p, y, h, cells, xs, widths, table, pad, font, zebra, total) -> None:
        if zebra:
            p.fillRect(QRectF(0, y, self.width, h), ZEBRA)
        if total:
            self._rule(p, y, 0.6)
        for text, x, w, col in zip(cells, xs, widths, table.columns, strict=True):
            align = Qt.AlignmentFlag.AlignRight if col.numeric else Qt.AlignmentFlag.AlignLeft
            self._draw_text(
                p,
                QRectF(x + pad, y + pad, w - 2 * pad, h - 2 * pad),
                text,
                font,
                TEXT,
                align | Qt.AlignmentFlag.AlignTop,
            )
