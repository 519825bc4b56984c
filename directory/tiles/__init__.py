"""Map tiles from our own origin: a caching proxy of the configured upstream tile server.

A page that asked a public tile server for its tiles would tell that server the person's
address and where they are looking (a tile's z/x/y is a place). So the pages ask us
(``/tiles/{z}/{x}/{y}.png``); we answer from a disk cache, or fetch the tile from the
upstream (``TILE_URL``) as our server, with a User-Agent naming the site, a bounded number
of connections and the upstream's caching headers honoured (its usage policy).

``service`` does the work and never imports Flask; ``views`` is the blueprint; ``logs``
keeps the tile coordinates out of the request logs.
"""
