"""Tiles from a disk cache, fetched from the upstream tile server when missing or expired.

The upstream sees our server, never a searcher: one User-Agent naming the site and a
contact, no cookie, no referrer, no client address. Its usage policy is honoured:

* **Cache.** ``<cache_dir>/<upstream key>/<z>/<x>/<y>.tile``; the upstream key is a hash of
  the template, so changing ``TILE_URL`` never serves the old server's tiles. A file's
  modification time is the moment it expires: the upstream's ``Cache-Control: max-age``
  (or ``Expires``), at least ``MIN_FRESHNESS`` and at most ``max_age`` (``TILE_CACHE_MAX_AGE``,
  7 days), or ``max_age`` when the upstream says nothing. Writes are atomic (a temporary
  file in the same folder, renamed over the old one), so a reader never sees half a tile.
  Expired tiles stay on disk: they are served when the upstream cannot be reached, and
  ``find <cache_dir> -type f -mmin +43200 -delete`` clears those expired for a month.
* **Bounded concurrency.** At most ``concurrency`` (``TILE_UPSTREAM_CONCURRENCY``, 2) fetches
  at once per process; two requests for one missing tile make one fetch.
* **Failing fast.** A fetch has a short timeout; a request that waits more than
  ``slot_wait`` for a free connection gets no tile. After a failure (no answer, a timeout,
  5xx, 429, 403) the upstream is left alone for ``backoff`` seconds: missing tiles answer
  "unavailable" at once, expired ones are served stale. The map still shows our own layers.

Nothing here logs a tile's coordinates or URL: a tile is a place someone looked at.
"""

from __future__ import annotations

import contextlib
import email.utils
import hashlib
import http.client
import logging
import os
import re
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

MAX_ZOOM = 19
# An upstream that says "do not keep this" is still asked at most once an hour per tile.
MIN_FRESHNESS = 3600
MAX_TILE_BYTES = 1024 * 1024
IMAGE_TYPES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF8", "image/gif"),
)
SUBDOMAINS = "abc"


class InvalidTile(ValueError):
    """Coordinates no tile has: ``name`` is ``z``, ``x`` or ``y``."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message


class TileNotFound(LookupError):
    """The upstream has no such tile (404 or 410), or no upstream is configured."""


class TileUnavailable(RuntimeError):
    """No tile to give now: the upstream does not answer, or is busy. ``retry_after`` is
    when to ask again (seconds)."""

    def __init__(self, reason: str, retry_after: int) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class _UpstreamFailed(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Tile:
    body: bytes
    content_type: str
    # "hit": from the cache; "miss": fetched now; "stale": expired, the upstream failing.
    source: str


@dataclass(frozen=True, slots=True)
class TileSettings:
    upstream: str  # URL template with {z} {x} {y}, optionally {s}, {r}, {-y}
    cache_dir: Path
    user_agent: str
    max_age: int = 7 * 24 * 3600
    timeout: float = 5.0
    concurrency: int = 2
    slot_wait: float = 2.0
    backoff: float = 30.0
    max_zoom: int = MAX_ZOOM


def check_coordinates(z: int, x: int, y: int, max_zoom: int = MAX_ZOOM) -> None:
    """Raise ``InvalidTile`` unless ``z/x/y`` names a tile of the Web Mercator pyramid."""
    if not 0 <= z <= max_zoom:
        raise InvalidTile("z", f"zoom {z} is not between 0 and {max_zoom}")
    last = 2**z - 1
    for name, value in (("x", x), ("y", y)):
        if not 0 <= value <= last:
            raise InvalidTile(name, f"{value} is not between 0 and {last} at zoom {z}")


def upstream_url(template: str, z: int, x: int, y: int) -> str:
    return (
        template.replace("{s}", SUBDOMAINS[(x + y) % len(SUBDOMAINS)])
        .replace("{r}", "")
        .replace("{z}", str(z))
        .replace("{x}", str(x))
        .replace("{-y}", str(2**z - 1 - y))
        .replace("{y}", str(y))
    )


def image_type(body: bytes) -> str | None:
    """The image type from the first bytes; ``None`` for anything that is not an image
    (an HTML error page sent with status 200 must not be cached as a tile)."""
    for magic, content_type in IMAGE_TYPES:
        if body.startswith(magic):
            return content_type
    if body[:4] == b"RIFF" and body[8:12] == b"WEBP":
        return "image/webp"
    return None


_MAX_AGE = re.compile(r"(?:^|,)\s*(?:s-maxage|max-age)\s*=\s*\"?(\d+)", re.IGNORECASE)


def upstream_freshness(headers: dict[str, str], now: float) -> int | None:
    """Seconds the upstream says its answer stays fresh (``Cache-Control``, else
    ``Expires`` against ``Date``), or ``None`` when it says nothing usable."""
    control = headers.get("cache-control", "")
    if re.search(r"\b(?:no-store|no-cache)\b", control, re.IGNORECASE):
        return 0
    if ages := [int(value) for value in _MAX_AGE.findall(control)]:
        return min(ages)
    if expires := headers.get("expires"):
        try:
            at = email.utils.parsedate_to_datetime(expires).timestamp()
        except (TypeError, ValueError, IndexError, OverflowError):
            return 0  # an invalid Expires means "already expired" (RFC 9111)
        sent = now
        if date := headers.get("date"):
            with contextlib.suppress(TypeError, ValueError, IndexError, OverflowError):
                sent = email.utils.parsedate_to_datetime(date).timestamp()
        return max(0, int(at - sent))
    return None


class TileCache:
    """One per process (the app holds it): its semaphore bounds this process's fetches."""

    def __init__(
        self,
        settings: TileSettings,
        *,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self._clock = clock
        self._monotonic = monotonic
        self._slots = threading.BoundedSemaphore(settings.concurrency)
        self._lock = threading.Lock()
        self._inflight: dict[Path, threading.Event] = {}
        self._down_until = 0.0
        key = hashlib.sha256(settings.upstream.encode()).hexdigest()[:16]
        self._root = settings.cache_dir / key
        # urllib's defaults: no cookies, http(s)_proxy from the environment honoured (for a
        # server that reaches the internet through one).
        self._opener = urllib.request.build_opener()
        self._opener.addheaders = []  # not urllib's own "Python-urllib/3.x"

    @property
    def enabled(self) -> bool:
        return bool(self.settings.upstream)

    def path(self, z: int, x: int, y: int) -> Path:
        return self._root / str(z) / str(x) / f"{y}.tile"

    def get(self, z: int, x: int, y: int) -> Tile:
        """The tile ``z/x/y``: from the cache while fresh, else from the upstream.

        Raises ``InvalidTile``, ``TileNotFound`` (no upstream, or it has no such tile) or
        ``TileUnavailable`` (upstream unreachable or busy and nothing cached)."""
        check_coordinates(z, x, y, self.settings.max_zoom)
        if not self.enabled:
            raise TileNotFound("no tile server is configured")
        path = self.path(z, x, y)
        cached, fresh = self._read(path)
        if cached is not None and fresh:
            return cached
        return self._refresh(path, z, x, y, cached)

    # -- the cache -------------------------------------------------------------------------

    def _read(self, path: Path) -> tuple[Tile | None, bool]:
        """The cached tile and whether it is still fresh (its mtime is its expiry)."""
        try:
            with path.open("rb") as file:
                expires = os.fstat(file.fileno()).st_mtime
                body = file.read(MAX_TILE_BYTES + 1)
        except OSError:
            return None, False
        content_type = image_type(body)
        if content_type is None or len(body) > MAX_TILE_BYTES:
            return None, False
        fresh = expires > self._clock()
        return Tile(body, content_type, "hit" if fresh else "stale"), fresh

    def _write(self, path: Path, body: bytes, expires: float) -> None:
        """Atomically: a reader sees the old tile or the new one, never part of one."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(prefix=".", suffix=".part", dir=path.parent)
            try:
                with os.fdopen(handle, "wb") as file:
                    file.write(body)
                os.utime(temporary, (self._clock(), expires))
                os.replace(temporary, path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)
                raise
        except OSError as error:
            # A full or read-only disk costs the cache, not the tile.
            log.warning("tile cache not written (%s)", type(error).__name__)

    # -- the upstream ----------------------------------------------------------------------

    def _refresh(self, path: Path, z: int, x: int, y: int, stale: Tile | None) -> Tile:
        if self._monotonic() < self._down_until:
            return self._fallback(stale, "the tile server did not answer a moment ago")
        with self._lock:
            event = self._inflight.get(path)
            leader = event is None
            if leader:
                event = self._inflight[path] = threading.Event()
        if not leader:
            # Somebody is fetching this very tile: wait for it, then read what it wrote.
            event.wait(self.settings.slot_wait + self.settings.timeout)
            cached, fresh = self._read(path)
            if cached is not None and fresh:
                return cached
            return self._fallback(stale, "the tile server did not answer in time")
        try:
            if not self._slots.acquire(timeout=self.settings.slot_wait):
                return self._fallback(stale, "the tile server is busy", retry_after=2)
            try:
                body, freshness = self._fetch(z, x, y)
            finally:
                self._slots.release()
            self._write(path, body, self._clock() + freshness)  # before the waiters read
        except _UpstreamFailed as failure:
            self._back_off(failure.reason)
            return self._fallback(stale, "the tile server did not answer")
        finally:
            with self._lock:
                del self._inflight[path]
            event.set()
        content_type = image_type(body) or "application/octet-stream"
        return Tile(body, content_type, "miss")

    def _fetch(self, z: int, x: int, y: int) -> tuple[bytes, int]:
        """The tile's bytes and how long to keep them. Raises ``TileNotFound`` or
        ``_UpstreamFailed``; never logs the URL (it holds the coordinates)."""
        request = urllib.request.Request(
            upstream_url(self.settings.upstream, z, x, y),
            headers={
                "User-Agent": self.settings.user_agent,
                "Accept": "image/png,image/webp,image/*;q=0.8",
            },
        )
        try:
            with self._opener.open(request, timeout=self.settings.timeout) as response:
                body = response.read(MAX_TILE_BYTES + 1)
                headers = {name.lower(): value for name, value in response.headers.items()}
        except urllib.error.HTTPError as error:
            error.close()
            if error.code in (404, 410):
                raise TileNotFound("the tile server has no such tile") from None
            if error.code in (403, 429):
                raise _UpstreamFailed(
                    f"HTTP {error.code}: refused; check TILE_USER_AGENT and its usage policy"
                ) from None
            raise _UpstreamFailed(f"HTTP {error.code}") from None
        except (
            OSError,
            ValueError,
            http.client.HTTPException,
        ) as error:  # URLError, timeouts, refused, bad URL
            reason = getattr(error, "reason", None)
            name = type(reason).__name__ if isinstance(reason, BaseException) else None
            raise _UpstreamFailed(name or type(error).__name__) from None
        if len(body) > MAX_TILE_BYTES or image_type(body) is None:
            raise _UpstreamFailed("an answer that is not a tile image")
        said = upstream_freshness(headers, self._clock())
        if said is None:
            return body, self.settings.max_age
        return body, min(max(said, MIN_FRESHNESS), self.settings.max_age)

    def _back_off(self, reason: str) -> None:
        with self._lock:
            was_up = self._monotonic() >= self._down_until
            self._down_until = self._monotonic() + self.settings.backoff
        if was_up:
            log.warning(
                "tile server failed (%s); serving cached tiles only for %g s",
                reason,
                self.settings.backoff,
            )

    def _fallback(self, stale: Tile | None, reason: str, retry_after: int | None = None) -> Tile:
        if stale is not None:
            return stale
        wait = retry_after or max(1, round(self._down_until - self._monotonic()))
        raise TileUnavailable(reason, wait)
