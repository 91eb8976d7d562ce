"""User text shown as written in widgets that guess whether text is markup.

Tooltips, message boxes, item tooltips and labels left at ``Qt.AutoText`` render their
text as rich text when ``Qt.mightBeRichText`` says it looks like markup: a model named
``<img src=x>`` would show as a broken image and ``<b>x</b>`` as a bold "x". Text that
mixes user strings into such a widget goes through :func:`literal`.
"""

from __future__ import annotations

import html

from PySide6.QtGui import Qt


def literal(text: str) -> str:
    """``text`` as Qt shows it literally where it guesses the format.

    Text Qt would not take for markup comes back unchanged (and keeps the plain-text
    layout); other text is escaped inside a paragraph that keeps its line breaks and
    runs of spaces.
    """
    if not Qt.mightBeRichText(text):
        return text
    return f"<p style='white-space:pre-wrap'>{html.escape(text, quote=False)}</p>"
