"""The API reference page (``/api/v1/docs``), rendered on the server from the OpenAPI
document: every operation with its parameters, answers and a curl example.

No script and nothing from elsewhere: the page uses our own stylesheet only, so it loads on
a weak connection and under the site's Content-Security-Policy.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from flask import current_app, render_template, request

from directory.api import api
from directory.api.openapi import (
    ERROR_CODES,
    GEOJSON,
    LINE_BODY_EXAMPLE,
    OPERATIONS,
    PATH_PARAMETERS,
    Operation,
    resolve,
    spec_for,
)
from directory.web import http


def schema_type(schema: dict[str, Any]) -> str:
    """A short text for a JSON Schema: ``integer``, ``string or null``, ``array of X``…"""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[1]
    if "title" in schema:
        return schema["title"]
    for union in ("oneOf", "anyOf"):
        if union in schema:
            return " or ".join(schema_type(part) for part in schema[union])
    kind = schema.get("type", "any")
    if isinstance(kind, list):
        kind = " or ".join(kind)
    if kind == "array" and "items" in schema and "prefixItems" not in schema:
        return f"array of {schema_type(schema['items'])}"
    if "format" in schema:
        kind = f"{kind} ({schema['format']})"
    return kind


def schema_limits(schema: dict[str, Any]) -> list[str]:
    """What a value must be, in words: ranges, lengths, patterns, choices, default."""
    if schema.get("type") == "array" and "items" in schema:
        return schema_limits(schema["items"])
    said = []
    if "minimum" in schema and "maximum" in schema:
        said.append(f"{schema['minimum']:g} to {schema['maximum']:g}")
    else:
        bounds = (
            ("minimum", "≥"),
            ("exclusiveMinimum", ">"),
            ("maximum", "≤"),
            ("exclusiveMaximum", "<"),
        )
        if parts := [f"{sign} {schema[key]:g}" for key, sign in bounds if key in schema]:
            said.append(", ".join(parts))
    if "minLength" in schema and "maxLength" in schema:
        said.append(f"length {schema['minLength']} to {schema['maxLength']}")
    elif "minLength" in schema:
        said.append(f"length ≥ {schema['minLength']}")
    elif "maxLength" in schema:
        said.append(f"length ≤ {schema['maxLength']}")
    if "enum" in schema:
        said.append("one of " + ", ".join(_text(value) for value in schema["enum"]))
    if "pattern" in schema:
        said.append(f"pattern {schema['pattern']}")
    if "default" in schema:
        said.append(f"default {_text(schema['default'])}")
    return said


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def schema_rows(spec: dict[str, Any], name: str) -> list[dict[str, Any]]:
    """The properties of component ``name``, one row each, for the reference page."""
    schema = spec["components"]["schemas"][name]
    required = set(schema.get("required", ()))
    rows = []
    for prop, sub in schema.get("properties", {}).items():
        item = sub.get("items", {}) if sub.get("type") == "array" else sub
        link = item["$ref"].rsplit("/", 1)[1] if "$ref" in item else None
        rows.append(
            {
                "name": prop,
                "type": schema_type(sub),
                "link": link,
                "always": prop in required,
                "limits": schema_limits(sub),
                "description": sub.get("description", ""),
            }
        )
    return rows


def curl_example(base_url: str, method: str, path: str, operation: Operation) -> str:
    """A curl command line that runs the operation on this server."""
    for name, parameter in PATH_PARAMETERS.items():
        path = path.replace("{" + name + "}", str(parameter["example"]))
    url = base_url.rstrip("/") + path
    if operation.example:
        url += "?" + urlencode(operation.example)
    if method == "get":
        return f"curl '{url}'"
    body = json.dumps(LINE_BODY_EXAMPLE, separators=(",", ":"))
    return f"curl -X POST -H 'Content-Type: {GEOJSON}' --data '{body}' '{url}'"


def reference_context(spec: dict[str, Any], base_url: str) -> dict[str, Any]:
    """What ``api_reference.html`` shows, taken from the document."""
    sections = []
    for tag in spec.get("tags", []):
        entries = []
        for path, item in spec["paths"].items():
            for method, op in item.items():
                if tag["name"] not in op.get("tags", ()):
                    continue
                declared = OPERATIONS[f"api.{op['operationId']}"]
                entries.append(
                    {
                        "id": op["operationId"],
                        "method": method.upper(),
                        "path": path,
                        "op": op,
                        "parameters": [
                            {
                                **parameter,
                                "type": schema_type(parameter["schema"]),
                                "limits": schema_limits(parameter["schema"]),
                            }
                            for parameter in op.get("parameters", [])
                        ],
                        "body": op.get("requestBody"),
                        "responses": [
                            {"status": status, **resolve(spec, answer)}
                            for status, answer in op["responses"].items()
                        ],
                        "curl": curl_example(base_url, method, path, declared),
                    }
                )
        if entries:
            sections.append({"tag": tag, "operations": entries})
    schemas = [
        {
            "name": name,
            "description": schema.get("description", ""),
            "rows": rows,
            "one_of": [schema_type(part) for part in schema.get("oneOf", ())],
        }
        for name, schema in spec["components"]["schemas"].items()
        if (rows := schema_rows(spec, name)) or schema.get("oneOf")
    ]
    return {
        "spec": spec,
        "sections": sections,
        "schemas": schemas,
        "anchors": {schema["name"] for schema in schemas},
        "error_codes": ERROR_CODES,
        "schema_type": schema_type,
    }


@api.get("/docs")
@http.policy(http.public(3600))
def reference() -> str:
    """The API reference for people: every operation with its parameters, answers and an
    example, rendered from the OpenAPI document."""
    return render_template(
        "api_reference.html", **reference_context(spec_for(current_app), request.host_url)
    )
