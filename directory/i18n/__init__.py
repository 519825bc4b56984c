"""The languages the directory speaks: Spanish first, then English, French, Haitian Creole.

The people on the routes read Spanish, Haitian Creole or French before English, and the
secretariat works in Spanish and English. Every page, message and script string goes
through gettext (Flask-Babel); the catalogs are in ``directory/translations/`` and the
README says how to add a language.
"""

from __future__ import annotations

from types import MappingProxyType

# Each language named in its own language, in the switcher's order.
LANGUAGES = MappingProxyType(
    {
        "es": "Español",
        "en": "English",
        "fr": "Français",
        "ht": "Kreyòl ayisyen",
    }
)
DEFAULT_LANGUAGE = "es"
