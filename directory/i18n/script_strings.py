"""The strings our JavaScript shows, translated on the server for the page's language.

Pages hand them to the scripts as JSON (``<body data-strings>``); a script reads one with
``ProtectionDirectory.t(key, {name: value})``, which fills ``%(name)s`` placeholders, so a
sentence is never assembled from pieces and a translator can move the values.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

STRINGS: dict[str, str] = {
    "close": _l("Close"),
}


def for_scripts() -> dict[str, str]:
    """Every script string in the current language."""
    return {key: str(text) for key, text in STRINGS.items()}
