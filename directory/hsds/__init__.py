"""Open Referral HSDS 3.0 exchange: ids, mapping, streamed export, the HSDS API, commands.

The public directory (non-archived organizations with at least one non-archived location)
is exposed in the field's open standard so partner networks can read it with any HSDS
client. Contact persons are never part of it.
"""
