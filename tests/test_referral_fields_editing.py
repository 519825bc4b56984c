"""Editing what a referral needs (issue 15) in the workspace: who a site admits and what to
bring, per language with the language each was written in, and a consular office's 24/7
protection line (refused on any other place). Saved as every location edit is: the version
check, one audit entry, the history in words."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError

from directory.accounts.models import UserRole
from directory.db import OrganizationKind
from directory.places import editing
from directory.places.editing import Problem
from directory.places.models import Location
from directory.records import apply_edit
from tests import factories
from tests.test_location_editing import audit_entries, edit_path, form_values, post_edit
from tests.workspace_helpers import make_user, sign_in

GT_BOX = (-92.5, 13.5, -88.2, 17.8)
SV_BOX = (-90.1, 13.1, -87.7, 14.45)


@pytest.fixture
def referral_places(db_session) -> dict[str, Any]:
    """A shelter and a Salvadoran consulate in Guatemala; committed (a refused request
    rolls the session back to its last commit)."""
    factories.country(db_session, "GT", GT_BOX)
    factories.country(db_session, "SV", SV_BOX)
    own = factories.organization(db_session, name="Casa Referida")
    shelter = factories.location(db_session, own, -90.5133, 14.6407, country_code="GT")
    consulate = factories.consular_office(db_session, "SV", -90.52, 14.61, host="GT")
    db_session.commit()
    return {"own": own, "shelter": shelter, "consulate": consulate}


@pytest.fixture
def editor(client, db_session, referral_places):
    user = make_user(db_session, UserRole.FOCAL_POINT, country_code="GT")
    sign_in(client, user)
    return user


def _error_beside(html: str, field_id: str) -> str:
    match = re.search(rf'id="{re.escape(field_id)}-error">([^<]*)<', html)
    assert match, f"no error beside {field_id}"
    assert re.search(rf'aria-describedby="[^"]*{re.escape(field_id)}-error', html)
    return match.group(1)


# --- the form -----------------------------------------------------------------------------


def test_a_consular_office_s_form_has_the_protection_line_and_a_shelter_s_does_not(
    client, editor, referral_places
):
    consulate = client.get(edit_path(referral_places["consulate"])).get_data(as_text=True)
    assert 'name="protection_phone"' in consulate
    assert "Vienna Convention" in consulate
    shelter = client.get(edit_path(referral_places["shelter"])).get_data(as_text=True)
    assert 'name="protection_phone"' not in shelter
    for html in (consulate, shelter):
        for name in ("admission_rules_es", "admission_rules_ht", "what_to_bring_fr"):
            assert f'name="{name}"' in html
        assert 'name="admission_rules_language"' in html
        assert 'name="what_to_bring_language"' in html
        assert "Who is admitted" in html


def test_the_texts_and_the_protection_line_round_trip_with_one_audit_entry(
    client, db_session, editor, referral_places
):
    consulate = referral_places["consulate"]
    response = post_edit(
        client,
        consulate,
        protection_phone=" +502 5555 0101 ",
        admission_rules_es="Solo nacionales salvadoreños.",
        admission_rules_en="Salvadoran nationals only.",
        admission_rules_language="es",
        # Lines as a browser sends them (CRLF), one language: it is the original.
        what_to_bring_fr="Une pièce d'identité.\r\nLe bon d'orientation.",
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    db_session.expire_all()
    assert consulate.version == 2
    assert consulate.protection_phone == "+502 5555 0101"
    assert consulate.admission_rules == {
        "es": "Solo nacionales salvadoreños.",
        "en": "Salvadoran nationals only.",
    }
    assert consulate.admission_rules_language == "es"
    assert consulate.what_to_bring == {"fr": "Une pièce d'identité.\nLe bon d'orientation."}
    assert consulate.what_to_bring_language == "fr"
    assert consulate.admission_rules_in("ht").text == "Solo nacionales salvadoreños."

    [entry] = audit_entries(db_session, consulate, "update")
    assert entry.user_id == editor.id
    assert entry.before["protection_phone"] is None
    assert entry.after["protection_phone"] == "+502 5555 0101"
    assert entry.before["admission_rules"] == {}
    assert entry.after["admission_rules"]["en"] == "Salvadoran nationals only."
    assert entry.after["admission_rules_language"] == "es"
    assert entry.after["what_to_bring_language"] == "fr"
    assert (entry.before["version"], entry.after["version"]) == (1, 2)

    values = form_values(client, consulate)
    assert values["protection_phone"] == "+502 5555 0101"
    assert values["admission_rules_en"] == "Salvadoran nationals only."
    assert values["admission_rules_language"] == "es"
    assert values["what_to_bring_language"] == "fr"
    # Saved again as the page shows it (a browser sends CRLF again): nothing changes.
    again = post_edit(
        client, consulate, what_to_bring_fr="Une pièce d'identité.\r\nLe bon d'orientation."
    )
    assert again.status_code == 302
    db_session.expire_all()
    assert consulate.version == 2


def test_emptying_the_texts_removes_them_and_their_language(
    client, db_session, editor, referral_places
):
    shelter = referral_places["shelter"]
    post_edit(client, shelter, what_to_bring_es="Documento", what_to_bring_language="es")
    response = post_edit(client, shelter, what_to_bring_es="", what_to_bring_language="es")
    assert response.status_code == 302
    db_session.expire_all()
    assert shelter.what_to_bring == {}
    assert shelter.what_to_bring_language is None


@pytest.mark.parametrize(
    ("changes", "field_id", "message"),
    [
        # "Written in" French, with no French text: the database's CHECK would refuse it.
        (
            {"admission_rules_es": "Familias", "admission_rules_language": "fr"},
            "admission_rules_language",
            "There is no text in this language",
        ),
        (
            {
                "what_to_bring_es": "Documento",
                "what_to_bring_en": "ID",
                "what_to_bring_language": "",
            },
            "what_to_bring_language",
            "Say which language it was written in",
        ),
        # A language that is none of the choices (a crafted post): refused the same way.
        (
            {"what_to_bring_es": "Documento", "what_to_bring_language": "xx"},
            "what_to_bring_language",
            "There is no text in this language",
        ),
        ({"admission_rules_es": "x" * 5001}, "admission_rules_es", "5000"),
        ({"protection_phone": "call the consul"}, "protection_phone", "not a phone number"),
    ],
)
def test_bad_input_is_shown_beside_its_field_and_nothing_is_saved(
    client, db_session, editor, referral_places, changes, field_id, message
):
    consulate = referral_places["consulate"]
    response = post_edit(client, consulate, **changes)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in _error_beside(html, field_id)
    assert "Nothing was saved" in html
    db_session.expire_all()
    assert consulate.version == 1
    assert audit_entries(db_session, consulate, "update") == []


def test_a_protection_line_on_a_shelter_is_refused_beside_the_field(
    client, db_session, editor, referral_places
):
    shelter = referral_places["shelter"]
    response = post_edit(client, shelter, protection_phone="+502 5555 0101")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Only a consulate&#39;s or an embassy&#39;s places" in _error_beside(
        html, "protection_phone"
    )
    assert 'value="+502 5555 0101"' in html  # shown, with what was typed, to be emptied
    db_session.expire_all()
    assert shelter.protection_phone is None
    assert shelter.version == 1


def test_a_line_recorded_on_a_shelter_by_mistake_is_shown_and_can_be_emptied(
    client, db_session, editor, referral_places
):
    shelter = referral_places["shelter"]
    # As an organization whose kind changed after its line was recorded would leave it.
    db_session.execute(
        Location.__table__.update()
        .where(Location.id == shelter.id)
        .values(protection_phone="+502 1111 2222")
    )
    db_session.commit()
    page = client.get(edit_path(shelter)).get_data(as_text=True)
    assert 'name="protection_phone"' in page
    assert post_edit(client, shelter).status_code == 400  # kept as it is: refused
    response = post_edit(client, shelter, protection_phone="")
    assert response.status_code == 302
    db_session.expire_all()
    assert shelter.protection_phone is None


def test_texts_in_another_language_are_kept_and_stay_the_original(
    client, db_session, editor, referral_places
):
    """An import may bring a text in Portuguese: the form does not show it, keeps it, and
    offers it as the language the text was written in."""
    shelter = referral_places["shelter"]
    apply_edit(
        db_session,
        shelter,
        {"admission_rules": {"pt": "Só famílias"}, "admission_rules_language": "pt"},
        expected_version=1,
        user_id=None,
    )
    db_session.commit()
    values = form_values(client, shelter)
    assert values["admission_rules_language"] == "pt"
    response = post_edit(client, shelter, admission_rules_es="Solo familias")
    assert response.status_code == 302, response.get_data(as_text=True)
    db_session.expire_all()
    assert shelter.admission_rules == {"pt": "Só famílias", "es": "Solo familias"}
    assert shelter.admission_rules_language == "pt"


def test_the_history_names_the_new_fields_in_words(client, db_session, editor, referral_places):
    consulate = referral_places["consulate"]
    post_edit(
        client,
        consulate,
        protection_phone="+502 5555 0101",
        admission_rules_fr="Ressortissants salvadoriens.",
    )
    html = client.get(f"/workspace/locations/{consulate.id}/history").get_data(as_text=True)
    assert "24/7 protection line" in html
    assert "Who is admitted (French)" in html  # "fr" is French here, not Friday
    assert "Who is admitted: language it was written in" in html
    assert '<span class="after">French</span>' in html
    assert "admission_rules" not in html


def test_an_organization_editor_neither_sees_nor_posts_the_new_fields(
    client, db_session, referral_places
):
    user = make_user(
        db_session, UserRole.ORGANIZATION_EDITOR, organization_id=referral_places["own"].id
    )
    sign_in(client, user)
    shelter = referral_places["shelter"]
    html = client.get(edit_path(shelter)).get_data(as_text=True)
    assert 'name="admission_rules_es"' not in html
    assert 'name="protection_phone"' not in html
    response = post_edit(client, shelter, what_to_bring_es="Documento")
    assert response.status_code == 403
    db_session.expire_all()
    assert shelter.what_to_bring == {}


# --- the service ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "number", "problem"),
    [
        (OrganizationKind.CONSULATE, "+52 55 1234 5678", None),
        (OrganizationKind.EMBASSY, "+502 2222-3333", None),
        (OrganizationKind.CONSULATE, None, None),
        (OrganizationKind.SHELTER, None, None),
        (OrganizationKind.SHELTER, "+502 2222 3333", Problem.NOT_CONSULAR),
        (OrganizationKind.CIVIL_SOCIETY, "+502 2222 3333", Problem.NOT_CONSULAR),
        (OrganizationKind.CONSULATE, "24 hours", Problem.PHONE_INVALID),
    ],
)
def test_who_may_have_a_protection_line(kind, number, problem):
    assert editing.check_protection_phone(kind, number) == problem


@pytest.mark.parametrize(
    ("texts", "stated", "expected"),
    [
        ({}, None, (None, None)),
        ({}, "es", (None, None)),  # nothing written: no original either
        ({"en": "x"}, None, ("en", None)),
        ({"en": "x", "es": "y"}, "es", ("es", None)),
        ({"en": "x"}, "es", (None, Problem.ORIGINAL_MISSING)),
        ({"en": "x", "es": "y"}, None, (None, Problem.ORIGINAL_UNSAID)),
    ],
)
def test_the_language_a_text_was_written_in(texts, stated, expected):
    assert editing.original_language(texts, stated) == expected


def test_the_service_refuses_what_the_database_would_refuse(db_session, referral_places):
    shelter, consulate = referral_places["shelter"], referral_places["consulate"]
    with pytest.raises(editing.ChangesRefused) as refused:
        editing.save_location(
            db_session,
            shelter,
            {"protection_phone": "+502 2222 3333"},
            expected_version=1,
            user_id=None,
        )
    assert refused.value.problems == {"protection_phone": Problem.NOT_CONSULAR}
    with pytest.raises(editing.ChangesRefused) as refused:
        editing.save_location(
            db_session,
            consulate,
            {"what_to_bring": {"es": "Documento"}, "what_to_bring_language": "en"},
            expected_version=1,
            user_id=None,
        )
    assert refused.value.problems == {"what_to_bring_language": Problem.ORIGINAL_MISSING}
    db_session.expire_all()
    assert (shelter.version, consulate.version) == (1, 1)
    editing.save_location(
        db_session,
        consulate,
        {"protection_phone": "+502 2222 3333", "what_to_bring": {"es": "Documento"}},
        expected_version=1,
        user_id=None,
    )
    db_session.flush()
    assert consulate.what_to_bring_language is None  # one text: allowed; the form names it


def test_the_database_check_stands_behind_the_service(db_session, referral_places):
    shelter = referral_places["shelter"]

    def written_in_french() -> None:
        with db_session.begin_nested():
            shelter.admission_rules = {"es": "Familias"}
            shelter.admission_rules_language = "fr"
            db_session.flush()

    with pytest.raises(IntegrityError, match="admission_rules_language_present"):
        written_in_french()
