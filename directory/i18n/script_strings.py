"""The strings our JavaScript shows, translated on the server for the page's language.

Pages hand them to the scripts as JSON (``<body data-strings>``); a script reads one with
``ProtectionDirectory.t(key, {name: value})``, which fills ``%(name)s`` placeholders, so a
sentence is never assembled from pieces and a translator can move the values.

A message with a count comes as two entries, ``KEY_one`` and ``KEY_other`` (the forms
``ngettext`` gives for 1 and for 2 in the page's language), with ``%(count)s`` left for
the script: ``ProtectionDirectory.tn(KEY, count)`` picks the form with ``Intl.PluralRules``
and puts in the count formatted for the language. Two forms suffice for Spanish, English,
French and Haitian Creole (a language with more would need more entries here).
tests/test_script_strings.py checks that every key is used by a script and every key a
script uses is here.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext

# The count's placeholder is given itself as the value, so it stays for the script to fill in.
COUNT = "%(count)s"

STRINGS: dict[str, object] = {
    # Leaflet's own controls, named in the page's language.
    # Translators: the button that closes a map's popup (read by screen readers).
    "close": _l("Close"),
    # Translators: a map button's tooltip.
    "zoom_in": _l("Zoom in"),
    # Translators: a map button's tooltip.
    "zoom_out": _l("Zoom out"),
    # Translators: the tooltip of the map's button that lists the layers (places by kind,
    # routes, districts) that can be shown or hidden.
    "layers": _l("Layers"),
    # Translators: the tooltip of the "Leaflet" credit in the corner of the map.
    "leaflet_title": _l("A JavaScript library for interactive maps"),
    # The layers a person can show or hide on a map.
    "migration_routes": _l("Migration routes"),
    "consular_districts": _l("Consular districts"),
    # Markers.
    # Translators: the tooltip of the point a search started from, on the map.
    "searching_from_here": _l("You are searching from here"),
    # Translators: the tooltip of the person's position on a route's map.
    "you_are_here": _l("You are here"),
    # Translators: a numbered result as listed in a map marker's tooltip, e.g. "3. Casa del
    # Migrante".
    "numbered_place": _l("%(rank)s. %(name)s"),
    "shared_point_one": lazy_ngettext(
        "%(count)s place shares this point (the town centre: its exact place is not known)",
        "%(count)s places share this point (the town centre: their exact places are not known)",
        1,
        count=COUNT,
    ),
    "shared_point_other": lazy_ngettext(
        "%(count)s place shares this point (the town centre: its exact place is not known)",
        "%(count)s places share this point (the town centre: their exact places are not known)",
        2,
        count=COUNT,
    ),
    # Translators: a button in a popup where the map was tapped: search from that point.
    "search_near_here": _l("Search near here"),
    # "Use my location".
    "locating": _l("Finding your position…"),
    "position_unavailable": _l("Your position is not available. Type the name of a town instead."),
    # The consular districts of the overview map.
    "loading": _l("Loading…"),
    "districts_failed": _l("The districts could not be loaded."),
    "no_districts": _l("No districts are known for this country yet."),
    "districts_shown_one": lazy_ngettext(
        "%(count)s district. Dashed: computed (the area nearest each office).",
        "%(count)s districts. Dashed: computed (the area nearest each office).",
        1,
        count=COUNT,
    ),
    "districts_shown_other": lazy_ngettext(
        "%(count)s district. Dashed: computed (the area nearest each office).",
        "%(count)s districts. Dashed: computed (the area nearest each office).",
        2,
        count=COUNT,
    ),
    # Translators: a district's tooltip: the consulate that serves it and its city.
    "district_office": _l("%(office)s (%(city)s)"),
    # Translators: a district's tooltip when the district was computed by us (the area
    # nearest the office), not published by the country.
    "district_office_computed": _l("%(office)s (%(city)s) · computed district"),
    # The location editor's map (workspace).
    # Translators: the tooltip of the marker a person drags to set a place's point.
    "drag_to_move": _l("Drag to move the point, or click on the map"),
    # Translators: said (and shown) after the point was set on the map; the numbers are
    # the new latitude and longitude.
    "point_set": _l("Point set: latitude %(lat)s, longitude %(lon)s. Save to keep it."),
}


def for_scripts() -> dict[str, str]:
    """Every script string in the current language."""
    return {key: str(text) for key, text in STRINGS.items()}
