"""How every face names and colours a kind of organization: one vocabulary, defined here.

Pages, scripts and the downloadable maps used to carry three lists of labels and two of
colours that drifted apart ("Shelters" in a list of one, green government offices on one
map and grey on another). Templates get ``KINDS`` from the public blueprint's context
processor, scripts get ``for_scripts()`` as JSON (``<body data-kinds>``), and the offline
maps read ``KINDS`` directly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from directory.db import OrganizationKind


@dataclass(frozen=True, slots=True)
class KindPresentation:
    """A kind of organization as people see it: one, many, and its colour on every map."""

    kind: OrganizationKind
    label: str  # one of them: "Shelter"
    plural: str  # a layer or legend entry: "Shelters"
    color: str  # CSS colour of its markers and swatches

    @property
    def key(self) -> str:
        return self.kind.value


def _vocabulary(*entries: KindPresentation) -> Mapping[OrganizationKind, KindPresentation]:
    return MappingProxyType({entry.kind: entry for entry in entries})


# In legend order. Keyed by the enum; being a StrEnum, ``KINDS["shelter"]`` works too.
KINDS: Mapping[OrganizationKind, KindPresentation] = _vocabulary(
    KindPresentation(OrganizationKind.CONSULATE, "Consulate", "Consulates", "#1f5fa8"),
    KindPresentation(
        OrganizationKind.EMBASSY,
        "Embassy (consular section)",
        "Embassies (consular section)",
        "#5b3fa8",
    ),
    KindPresentation(OrganizationKind.SHELTER, "Shelter", "Shelters", "#c2410c"),
    KindPresentation(
        OrganizationKind.CIVIL_SOCIETY,
        "Civil-society organization",
        "Civil-society organizations",
        "#15803d",
    ),
    KindPresentation(
        OrganizationKind.INTERNATIONAL_ORG,
        "International organization",
        "International organizations",
        "#0e7490",
    ),
    KindPresentation(
        OrganizationKind.GOVERNMENT, "Government service", "Government services", "#6b7280"
    ),
)


def for_scripts() -> list[dict[str, Any]]:
    """The vocabulary as JSON for the browser, in legend order."""
    return [
        {"key": entry.key, "label": entry.label, "plural": entry.plural, "color": entry.color}
        for entry in KINDS.values()
    ]
