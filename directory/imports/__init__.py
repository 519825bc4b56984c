"""Bulk imports (issue 13): CSV files of locations and contact persons, and HSDS 3.0
datasets, each checked by a dry run before anything is applied, all rows in one
transaction. Every imported record keeps the batch it came with (provenance)."""
