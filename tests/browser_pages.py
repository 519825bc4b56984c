"""Pages for the browser tests that need their own context (JavaScript off, a position)."""

from __future__ import annotations

from typing import Any


def new_page(browser: Any, *, javascript: bool = True, geolocation: dict | None = None) -> Any:
    """A page in a new context: a phone-sized window, optionally without JavaScript or with
    a granted position (``{"latitude": .., "longitude": ..}``)."""
    options: dict[str, Any] = {
        "java_script_enabled": javascript,
        "viewport": {"width": 1100, "height": 800},
    }
    if geolocation:
        options.update(geolocation=geolocation, permissions=["geolocation"])
    return browser.new_context(**options).new_page()
