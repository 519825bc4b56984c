"""Request reading and responding, shared by every face (``public/`` pages, ``api/`` JSON).

* ``args`` reads query strings through webargs (blank means absent, repeated parameters for
  lists, the first bad parameter named in one 400); ``schemas`` declares every face's
  arguments once; ``lookups`` turns parsed arguments into domain values (known codes,
  offices, districts, cursors) or a clear 4xx;
* ``cursor``: opaque keyset cursors; ``features``: the GeoJSON features both faces send;
* ``http``: the HTTP policy each route declares (cache headers today; ``Vary``, security
  headers and rate limits attach here);
* ``errors``: the one error shape.

No face imports another: ``public`` and ``api`` both import from here.
"""
