"""Our JavaScript's words come from the server in the page's language (issue 11).

The scripts under ``directory/static/js`` read every word a person sees through
``ProtectionDirectory.t(key, …)`` or ``tn(key, count)`` from the strings of
``directory/i18n/script_strings.py`` (``<body data-strings>``). These checks read the
scripts' source: every key a script asks for exists, every string there is used, and no
English sentence is left in a script's code.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from directory.i18n.script_strings import STRINGS, for_scripts

SCRIPTS = Path(__file__).resolve().parent.parent / "directory" / "static" / "js"

# ns.t("key" …), ProtectionDirectory.t('key' …), say("key") (locate.js's wrapper of t) and
# tn("key", count) (a counted message: KEY_one and KEY_other).
CALL = re.compile(r"""(?<!function )\b(t|tn|say)\(\s*(?:["']([a-z0-9_]+)["'])?""")
# The calls whose key is a variable: t's own helpers, nowhere else.
COMPUTED_KEYS = {("map-base.js", "t"): 1, ("locate.js", "t"): 1}
# A string literal: "…" or '…' (no template literals in our ES5 scripts).
LITERAL = re.compile(r""""((?:[^"\\\n]|\\.)*)"|'((?:[^'\\\n]|\\.)*)'""")
# A word a person reads: letters only (perhaps with an apostrophe and a final punctuation
# mark), unlike a CSS class ("place-marker"), an event ("click") in a sentence-like run.
WORD = re.compile(r"^[A-Za-z][a-z']+[.,:;!?…]?$")
CAPITALISED = re.compile(r"^[A-Z][a-z]{2,}[.:!?…]*$")
# Literals that look like words and are not shown to anyone.
NOT_SHOWN = {"use strict"}


def _code(path: Path) -> str:
    """A script without its comments (which name buttons in English on purpose)."""
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return re.sub(r"(?m)(^|[^:\\\"'])//.*$", r"\1", text)


def _scripts() -> list[Path]:
    found = sorted(SCRIPTS.glob("*.js"))
    assert found, f"no scripts in {SCRIPTS}"
    return found


def _calls(code: str) -> list[tuple[str, str]]:
    """(function, key) for each call of t, tn or say; key "" when it is not a literal."""
    return CALL.findall(code)


def _used_keys() -> dict[str, set[str]]:
    """Each key the scripts ask for, with the scripts that ask."""
    used: dict[str, set[str]] = {}
    for path in _scripts():
        for function, key in _calls(_code(path)):
            if not key:
                continue
            keys = [f"{key}_one", f"{key}_other"] if function == "tn" else [key]
            for each in keys:
                used.setdefault(each, set()).add(path.name)
    return used


def _is_english(text: str) -> bool:
    words = text.split()
    if len(words) == 1:
        return bool(CAPITALISED.match(words[0]))
    return sum(1 for word in words if WORD.match(word)) >= 2


def test_the_patterns_find_what_they_should():
    code = """ns.t("loading"); ns.t('zoom_in', { a: 1 }); say("locating");
      ns.tn("shared_point", n); ns.t(key, values); ns.textNode(x); fetch("x"); list("x");"""
    assert _calls(code) == [
        ("t", "loading"), ("t", "zoom_in"), ("say", "locating"), ("tn", "shared_point"),
        ("t", ""),
    ]  # fmt: skip
    assert [t for t in ("You are here", "Close", "Loading…", "Layers") if not _is_english(t)] == []
    assert [
        t
        for t in (
            "marker-cluster place-cluster",
            "kind-icon kind-icon--",
            "click",
            "div",
            "same-origin",
            "bottomleft",
            "4 3",
            "#fff",
            "zoom",
        )
        if _is_english(t)
    ] == []


def test_every_call_names_its_key():
    computed: dict[tuple[str, str], int] = {}
    for path in _scripts():
        for function, key in _calls(_code(path)):
            if not key:
                computed[(path.name, function)] = computed.get((path.name, function), 0) + 1
    assert computed == COMPUTED_KEYS, "give t(…) the key itself, so this test can check it"


def test_every_key_a_script_uses_is_a_server_string():
    missing = {key: sorted(where) for key, where in _used_keys().items() if key not in STRINGS}
    assert not missing, f"keys not in directory/i18n/script_strings.py: {missing}"


def test_every_server_string_is_used_by_a_script():
    unused = sorted(set(STRINGS) - set(_used_keys()))
    assert not unused, f"strings no script uses (remove them): {unused}"


def test_counted_messages_come_in_both_forms():
    for key in STRINGS:
        stem, _, form = key.rpartition("_")
        if form in ("one", "other"):
            assert f"{stem}_one" in STRINGS, key
            assert f"{stem}_other" in STRINGS, key


@pytest.mark.parametrize("path", _scripts(), ids=lambda path: path.name)
def test_no_english_sentence_is_left_in_a_script(path):
    left = []
    for match in LITERAL.finditer(_code(path)):
        text = match.group(1) if match.group(1) is not None else match.group(2)
        if text in NOT_SHOWN or text.startswith(("/", "#", ".", "[", "(")):
            continue  # addresses, selectors, media queries
        if _is_english(text):
            left.append(text)
    assert not left, f"{path.name} shows English of its own; use ProtectionDirectory.t: {left}"


def test_the_english_check_would_catch_a_sentence(tmp_path):
    script = tmp_path / "x.js"
    script.write_text(
        '/* "Show on map" in a comment is fine */\n'
        'a.textContent = "You are here"; b.title = \'Layers\'; c = "place-marker";\n'
        'd.setAttribute("aria-label", "Close"); // "Search near here"\n',
        encoding="utf-8",
    )
    literals = [m.group(1) or m.group(2) for m in LITERAL.finditer(_code(script))]
    assert [text for text in literals if _is_english(text)] == ["You are here", "Layers", "Close"]


def test_the_strings_reach_the_page_in_its_language(client):
    page = client.get("/near", headers={"Accept-Language": "en"}).get_data(as_text=True)
    found = re.search(r"<body data-strings='([^']*)'", page)
    assert found, "no <body data-strings> on /near"
    strings = json.loads(found.group(1).replace("&#39;", "'").replace("&amp;", "&"))
    assert set(strings) == set(STRINGS)
    assert strings["migration_routes"] == "Migration routes"
    assert strings["shared_point_one"].startswith("%(count)s place shares")
    assert strings["shared_point_other"].startswith("%(count)s places share")
    assert "%(office)s" in strings["district_office"]


def test_for_scripts_is_plain_strings(app):
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        strings = for_scripts()
    assert all(isinstance(value, str) for value in strings.values())
    assert strings["close"] == "Close"
