"""Corrections from the public and from confirmation links, waiting for a focal point
(issue 13, points 1 and 2): nothing changes until a person accepts them."""
