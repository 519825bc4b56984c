"""How every face names the groups a place says it serves in particular (one vocabulary:
the public filters and place pages, the staff pages and the workspace's forms)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from directory.db import Population

POPULATION_LABELS = {
    Population.WOMEN: _l("Women"),
    Population.CHILDREN: _l("Children"),
    Population.UNACCOMPANIED_MINORS: _l("Unaccompanied minors"),
    Population.FAMILIES: _l("Families"),
    Population.LGBTIQ: _l("LGBTIQ+ people"),
    Population.PEOPLE_WITH_DISABILITIES: _l("People with disabilities"),
    Population.INDIGENOUS_PEOPLES: _l("Indigenous peoples"),
}
