"""Reading and writing the files the directory exchanges: CSV and GeoJSON.

Used by the demo seeds, the gazetteer, the official-district loader and the exports. Nothing
here knows a model: readers yield checked Python values, writers take rows.
"""
