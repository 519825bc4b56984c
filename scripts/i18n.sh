#!/usr/bin/env bash
# The translation catalogs (directory/translations/), driven by `make i18n-*`:
#   extract [OUT]   collect the messages of the code and templates into the template (.pot)
#   update          bring every language's catalog in line with the template
#   compile         build the binary catalogs the app reads (.mo; not committed)
#   init LANG       start the catalog of a new language
#   check           fail when a catalog misses, leaves untranslated or fuzzy a message, or
#                   the template is out of date with the code (make test runs it too)
set -euo pipefail
cd "$(dirname "$0")/.."
PYBABEL=${PYBABEL:-.venv/bin/pybabel}
PYTHON=${PYTHON:-.venv/bin/python}
DIR=directory/translations
POT=$DIR/messages.pot

extract() {
    "$PYBABEL" -q extract -F babel.cfg \
        -k _l -k lazy_gettext -k lazy_ngettext:1,2 -k lazy_pgettext:1c,2 \
        --add-comments=Translators: --sort-by-file --no-wrap \
        --project="Protection Directory" --copyright-holder="Protection Directory" \
        --msgid-bugs-address="" -o "${1:-$POT}" directory templates
}

case "${1:-}" in
    extract) extract "${2:-}" ;;
    update)
        "$PYBABEL" -q update -i "$POT" -d "$DIR" --no-wrap --ignore-obsolete
        # English is the language of the messages themselves: its catalog starts as a copy.
        "$PYTHON" -m directory.i18n.catalogs fill-source en
        ;;
    compile) "$PYBABEL" -q compile -d "$DIR" ;;
    init) "$PYBABEL" init --no-wrap -i "$POT" -d "$DIR" -l "${2:?init LANG}" ;;
    check) "$PYTHON" -m directory.i18n.catalogs check ;;
    *) sed -n '2,9p' "$0"; exit 2 ;;
esac
