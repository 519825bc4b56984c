"""Confirmation requests (issue 13, point 1): an e-mail with a signed, single-use link that
lets a place or a contact person confirm their record, or correct it, without an account."""
