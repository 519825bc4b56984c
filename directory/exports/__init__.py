"""Streamed exports of the public directory: GeoJSON and CSV (issue 13, point 4).

The public directory is every non-archived location of a non-archived organization. The
exports read it in batches through a server-side cursor and write it row by row, so a
directory of 1,000,000 locations never sits in memory as 1,000,000 objects, whether the
file goes to a download or to disk (``flask export geojson|csv OUT``). Contact persons are
never part of them: the rows are read column by column from locations and organizations
only.
"""
