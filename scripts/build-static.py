#!/usr/bin/env python3
"""Build what the app serves under /static/ from directory/static/ into directory/static-dist/.

Run by `make` (the `.stamps/assets` target) after scripts/vendor-assets.sh, with the
virtual environment's Python; nothing it writes is committed (.gitignore).

1. A copy of directory/static/ (our files and the vendored ones).
2. Our own scripts and style sheets (js/, css/) minified by esbuild (package-lock.json's
   version); the sources stay readable in git.
3. Beside every file with a suffix, a copy named by its content (``css/site.css`` →
   ``css/site.0123456789ab.css``), and ``manifest.json`` mapping one to the other: the
   templates link the hashed names (``asset_url``), which WhiteNoise serves as immutable
   for a year. The plain names stay, with a short lifetime: Leaflet's style sheet finds
   ``images/…`` by relative URL, which its hashed copy (in the same folder) still does.
4. ``.gz`` and ``.br`` copies of every file worth compressing (``python -m
   whitenoise.compress``), which WhiteNoise sends to clients that accept them.

The result is moved into place at once, so a running server never sees half of it.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "directory" / "static"
DEST = ROOT / "directory" / "static-dist"
ESBUILD = ROOT / "node_modules" / ".bin" / "esbuild"
MINIFIED = ("js", "css")  # our own folders; vendor/ comes minified or is left as shipped
HASH_LENGTH = 12  # directory/web/static.py HASHED_NAME matches this
# Old phones' browsers: esbuild must not write newer syntax than this while minifying.
TARGET = "es2015"


def hashed_name(path: Path) -> str:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:HASH_LENGTH]
    return f"{path.stem}.{digest}{path.suffix}"


def build(work: Path) -> None:
    shutil.copytree(SOURCE, work)
    sources = sorted(
        str(path.relative_to(ROOT))
        for folder in MINIFIED
        for path in (SOURCE / folder).rglob("*")
        if path.suffix in (".js", ".css")
    )
    subprocess.run(
        [
            str(ESBUILD),
            *sources,
            "--minify",
            f"--target={TARGET}",
            f"--outbase={SOURCE.relative_to(ROOT)}",
            f"--outdir={work.relative_to(ROOT)}",
            "--allow-overwrite",
            "--log-level=warning",
        ],
        cwd=ROOT,
        check=True,
    )
    manifest: dict[str, str] = {}
    for path in sorted(p for p in work.rglob("*") if p.is_file() and p.suffix):
        relative = path.relative_to(work)
        hashed = path.with_name(hashed_name(path))
        shutil.copyfile(path, hashed)
        manifest[relative.as_posix()] = hashed.relative_to(work).as_posix()
    subprocess.run([sys.executable, "-m", "whitenoise.compress", "--quiet", str(work)], check=True)
    (work / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")


def main() -> None:
    if not ESBUILD.exists():
        sys.exit(f"{ESBUILD} is missing: run `make` (npm ci installs it)")
    work = DEST.with_name(DEST.name + ".tmp")
    old = DEST.with_name(DEST.name + ".old")
    shutil.rmtree(work, ignore_errors=True)
    shutil.rmtree(old, ignore_errors=True)
    build(work)
    if DEST.exists():
        DEST.rename(old)
    work.rename(DEST)
    shutil.rmtree(old, ignore_errors=True)
    count = len(json.loads((DEST / "manifest.json").read_text()))
    print(f"==> {count} static files minified, hashed and compressed into {DEST.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
