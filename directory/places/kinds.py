"""How every face names and colours a kind of organization: one vocabulary, defined here.

Pages, scripts and the downloadable maps used to carry three lists of labels and two of
colours that drifted apart ("Shelters" in a list of one, green government offices on one
map and grey on another). Templates get ``KINDS`` from the public blueprint's context
processor, scripts get ``for_scripts()`` as JSON (``<body data-kinds>``), and the offline
maps read ``KINDS`` directly.

Labels are lazy translations: a template or ``for_scripts()`` turns them into text in the
language of the request at hand, never once at import.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from directory.db import OrganizationKind


@dataclass(frozen=True, slots=True)
class KindPresentation:
    """A kind of organization as people see it: one, many, and its colour on every map."""

    kind: OrganizationKind
    label: LazyString  # one of them: "Shelter" (in the reader's language when shown)
    plural: LazyString  # a layer or legend entry: "Shelters"
    color: str  # CSS colour of its markers and swatches

    @property
    def key(self) -> str:
        return self.kind.value


def _vocabulary(*entries: KindPresentation) -> Mapping[OrganizationKind, KindPresentation]:
    return MappingProxyType({entry.kind: entry for entry in entries})


# In legend order. Keyed by the enum; being a StrEnum, ``KINDS["shelter"]`` works too.
KINDS: Mapping[OrganizationKind, KindPresentation] = _vocabulary(
    KindPresentation(OrganizationKind.CONSULATE, _l("Consulate"), _l("Consulates"), "#1f5fa8"),
    KindPresentation(
        OrganizationKind.EMBASSY,
        _l("Embassy (consular section)"),
        _l("Embassies (consular section)"),
        "#5b3fa8",
    ),
    KindPresentation(OrganizationKind.SHELTER, _l("Shelter"), _l("Shelters"), "#c2410c"),
    KindPresentation(
        OrganizationKind.CIVIL_SOCIETY,
        _l("Civil-society organization"),
        _l("Civil-society organizations"),
        "#15803d",
    ),
    KindPresentation(
        OrganizationKind.INTERNATIONAL_ORG,
        _l("International organization"),
        _l("International organizations"),
        "#0e7490",
    ),
    KindPresentation(
        OrganizationKind.GOVERNMENT, _l("Government service"), _l("Government services"), "#6b7280"
    ),
)


def for_scripts() -> list[dict[str, Any]]:
    """The vocabulary as JSON for the browser, in legend order, in the current language
    (plain strings: call it per request)."""
    return [
        {
            "key": entry.key,
            "label": str(entry.label),
            "plural": str(entry.plural),
            "color": entry.color,
        }
        for entry in KINDS.values()
    ]
