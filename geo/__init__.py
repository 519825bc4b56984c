"""The spatial layer: coordinates, time zones, PostGIS query helpers and map builders.

Nothing here knows about organizations, consulates or contact persons; ``directory``
imports ``geo``, never the other way round.
"""
