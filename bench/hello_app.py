"""The ceiling of ``bench/http_load.py``: a Flask hello-world under the same gunicorn settings.

No database, no templates: what gunicorn, Flask and the loopback cost per request on this
machine. No endpoint of the app can be faster than this.

    gunicorn -c gunicorn.conf.py bench.hello_app:app
"""

from __future__ import annotations

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> tuple[str, int, dict[str, str]]:
    return "Hello, world", 200, {"Content-Type": "text/plain"}
