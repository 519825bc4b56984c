"""Contact persons, read side (issue 12, point 2): who each member country names for each
network, found by country, network, role and search, printed and exported for the
signed-in roles that may read them (``Action.READ_CONTACTS``). Nothing here is public."""
