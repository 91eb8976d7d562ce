"""Lays out and paints the report's text blocks: the cover, section headings,
paragraphs, key-figure cards and the sign-off rows (all sizes in device pixels, given
in points through ``pt``)."""

from __future__ import annotations

from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QPainter, QPen

from core import APP_NAME
from core.report_model import KeyFigure, Paragraph, SignOff, format_number
from ui.report_canvas import ReportCanvas
from ui.report_style import ACCENT, MUTED, RULE, TEXT


class BlockPainter(ReportCanvas):
    """The cover, headings, paragraphs, key figures and sign-off of a report."""

    def _heading(self, title: str) -> None:
        h = self.text_height(title, "h1", self.width)
        self.ensure(h + self.pt(80))
        y = self.y
        self.add(
            lambda p, y=y: self._draw_text(p, QRectF(0, y, self.width, h), title, "h1", ACCENT)
        )
        self.y += h + self.pt(10)

    def _cover(self) -> None:
        m = self.report.meta
        w = self.width
        y = self.height * 0.16
        org = m.get("organisation") or ""
        lines: list[tuple[str, str, QColor, float]] = []
        if org:
            lines.append((org, "h2", MUTED, 10))
        lines.append((m.get("title", "Report"), "title", TEXT, 8))
        lines.append((f"{m.get('period', '')}  ({m.get('period_dates', '')})", "h1", ACCENT, 30))
        for text, font, color, gap in lines:
            h = self.text_height(text, font, w)
            self.add(
                lambda p, t=text, f=font, c=color, y=y, h=h: self._draw_text(
                    p, QRectF(0, y, w, h), t, f, c
                )
            )
            y += h + self.pt(gap)
        rows = [
            ("Inventory file", m.get("inventory", "")),
            ("Scope", m.get("scope", "")),
            ("Prepared by", m.get("preparer", "")),
            ("Status", m.get("status", "")),
            *([("Closed snapshot", m["snapshot"])] if m.get("snapshot") else []),
            ("Embodied convention", m.get("convention", "")),
            ("Uncertainty", m.get("uncertainty", "")),
            ("Generated", m.get("generated", "")),
            ("Application", f"{APP_NAME} {m.get('app_version', '')}"),
        ]
        label_w = self.pt(120)
        for label, value in rows:
            h = max(self.text_height(value, "body", w - label_w), self.metrics["body"].height())
            self.add(
                lambda p, label=label, value=value, y=y, h=h: (
                    self._draw_text(p, QRectF(0, y, label_w, h), label, "kf_label", MUTED),
                    self._draw_text(p, QRectF(label_w, y, w - label_w, h), value, "body", TEXT),
                )
            )
            y += h + self.pt(5)
        y += self.pt(18)
        t = self.report.totals
        figures = [
            ("Market-based emissions", f"{format_number(t.get('market_kgco2e'))} kgCO2e"),
            ("Location-based emissions", f"{format_number(t.get('location_kgco2e'))} kgCO2e"),
            ("Energy", f"{format_number(t.get('energy_kwh'))} kWh"),
        ]
        box_w = (w - 2 * self.pt(10)) / 3
        box_h = self.pt(52)
        for i, (label, value) in enumerate(figures):
            x = i * (box_w + self.pt(10))
            self.add(
                lambda p, x=x, y=y, label=label, value=value: self._card(
                    p, QRectF(x, y, box_w, box_h), label, value, ""
                )
            )
        self.y = y + box_h

    def _paragraph(self, para: Paragraph) -> None:
        font = {"note": "small", "heading": "h2"}.get(para.style, "body")
        indent = self.pt(14) if para.style in ("formula", "bullet") else 0.0
        w = self.width - indent
        h = self.text_height(para.text, font, w)
        listed = para.style in ("formula", "bullet")
        gap = self.pt(3) if listed else self.pt(7)
        if para.style == "heading":
            self.ensure(h + self.pt(40))
            self.y += self.pt(4)
        else:
            self.ensure(h)
            if not listed and self._last_style in ("formula", "bullet") and not self.at_top():
                self.y += self.pt(5)  # a list of formulas or bullets ends: set it apart
        self._last_style = para.style
        y = self.y
        color = MUTED if para.style == "note" else TEXT

        def draw(p: QPainter, y: float = y) -> None:
            if para.style == "bullet":
                self._draw_text(p, QRectF(self.pt(4), y, indent, h), "•", font, MUTED)
            self._draw_text(p, QRectF(indent, y, w, h), para.text, font, color)

        self.add(draw)
        self.y += h + gap

    def _key_figures(self, figures: list[KeyFigure]) -> None:
        cols = 2
        gap = self.pt(10)
        box_w = (self.width - gap * (cols - 1)) / cols
        inner = box_w - self.pt(16)
        heights = [
            self.pt(16)
            + self.metrics["kf_label"].height()
            + self.metrics["kf_value"].height()
            + self.text_height(f.detail, "small", inner)
            + self.pt(6)
            for f in figures
        ]
        for row in range(0, len(figures), cols):
            h = max(heights[row : row + cols])
            self.ensure(h)
            for c, f in enumerate(figures[row : row + cols]):
                x = c * (box_w + gap)
                value = f.text if f.value is not None else f.detail
                detail = f.detail if f.value is not None else ""
                self.add(
                    lambda p, x=x, y=self.y, f=f, v=value, d=detail, h=h: self._card(
                        p, QRectF(x, y, box_w, h), f.label, v, d
                    )
                )
            self.y += h + gap
        self.y += self.pt(2)

    def _card(self, p: QPainter, r: QRectF, label: str, value: str, detail: str) -> None:
        p.setPen(QPen(RULE, self.pt(0.5)))
        p.setBrush(QColor("#fafbfc"))
        p.drawRect(r)
        p.fillRect(QRectF(r.left(), r.top(), self.pt(3), r.height()), ACCENT)
        x, w = r.left() + self.pt(10), r.width() - self.pt(16)
        y = r.top() + self.pt(7)
        lh = self.metrics["kf_label"].height()
        self._draw_text(p, QRectF(x, y, w, lh), label, "kf_label", MUTED)
        y += lh + self.pt(2)
        vh = self.metrics["kf_value"].height()
        self._draw_text(p, QRectF(x, y, w, vh), value, "kf_value", TEXT)
        y += vh + self.pt(1)
        if detail:
            self._draw_text(p, QRectF(x, y, w, r.bottom() - y), detail, "small", MUTED)

    # -- sign-off -------------------------------------------------------------------

    SIGN_ROW = 56.0  # points per signature row

    def _sign_off_height(self, blocks: list) -> float:
        """The whole sign-off section's height: it is kept on one page."""
        h = self.text_height("Sign-off", "h1", self.width) + self.pt(10)
        for b in blocks:
            if isinstance(b, Paragraph):
                h += self.text_height(b.text, "body", self.width) + self.pt(7)
            elif isinstance(b, SignOff):
                h += self.pt(self.SIGN_ROW) * len(b.roles)
        return h + self.pt(12)

    def _sign_off(self, block: SignOff) -> None:
        row_h = self.pt(self.SIGN_ROW)
        self.y += self.pt(6)
        self.ensure(row_h * len(block.roles))
        for role, name in block.roles:
            y = self.y
            self.add(lambda p, y=y, role=role, name=name: self._sign_row(p, y, role, name))
            self.y += row_h

    def _sign_row(self, p: QPainter, y: float, role: str, name: str) -> None:
        lh = self.metrics["body"].height()
        self._draw_text(p, QRectF(0, y, self.width * 0.3, lh), role, "kf_label", MUTED)
        line_y = y + self.pt(30)
        cols = (("Name", 0.0, 0.38), ("Signature", 0.42, 0.78), ("Date", 0.82, 1.0))
        for label, a, b in cols:
            x0, x1 = self.width * a, self.width * b
            self._rule(p, line_y, 0.6, x0, x1)
            self._draw_text(p, QRectF(x0, line_y + self.pt(1), x1 - x0, lh), label, "small", MUTED)
        if name:
            self._draw_text(
                p, QRectF(0, line_y - lh - self.pt(2), self.width * 0.38, lh), name, "body", TEXT
            )
