"""The development server `make run` starts: werkzeug's, without its version banner.

``flask run`` answers every request with ``Server: Werkzeug/3.x Python/3.x``, which tells a
prober which known flaws to try. This runs the same server (reloader, threads, 127.0.0.1)
with a request handler that names no software or version. Production runs gunicorn
(``make serve``), whose ``Server`` header carries no version either.

    python -m directory.devserver [--host 127.0.0.1] [--port 5000] [--no-reload]
"""

from __future__ import annotations

import argparse

from werkzeug.serving import WSGIRequestHandler, run_simple

SERVER_NAME = "protection-directory"


class QuietRequestHandler(WSGIRequestHandler):
    """werkzeug's request handler with a ``Server`` header that names no versions."""

    def version_string(self) -> str:
        return SERVER_NAME

    @property
    def server_version(self) -> str:  # also what the app sees as SERVER_SOFTWARE
        return SERVER_NAME


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--no-reload", action="store_true", help="do not restart on changes")
    options = parser.parse_args(argv)

    from wsgi import app  # the same app `flask run` and gunicorn load

    run_simple(
        options.host,
        options.port,
        app,
        use_reloader=not options.no_reload,
        threaded=True,
        request_handler=QuietRequestHandler,
    )


if __name__ == "__main__":
    main()
