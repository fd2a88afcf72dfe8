"""The article record as JSON Schema (2020-12) and as a Frictionless Table Schema.

One description of the record, built from :data:`~opennews.article.FIELDS`, so the
dumps, the datapackage, the published schema URL and the API cannot drift apart. The
record is open (``additionalProperties`` allowed): the archive may grow fields, and a
consumer written against today's schema keeps working.
"""

from __future__ import annotations

from typing import Any

from ..article import FIELDS, MAX_SHORT, MAX_TITLE

__all__ = ["SCHEMA_PATH", "article_schema", "table_schema", "tombstone_schema"]

#: Where the web app publishes the schema; stable once published.
SCHEMA_PATH = "/schema/article.json"

_TEXT_OR_NULL = {"type": ["string", "null"]}
_WHEN = {
    "type": ["string", "null"],
    "description": "ISO 8601: a zone-qualified date-time (Vietnam time, +07:00) or a date.",
    "pattern": r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:\d{2}|Z))?$",
}

_PROPERTIES: dict[str, dict[str, Any]] = {
    "id": {
        "type": "string",
        "pattern": r"^[A-Za-z0-9][A-Za-z0-9._:~-]{0,127}$",
        "description": "Stable id: from the canonical URL when there is one, else from source and content.",
    },
    "url": {**_TEXT_OR_NULL, "description": "The article at its outlet (absolute http(s) URL)."},
    "source": {"type": "string", "maxLength": MAX_SHORT, "description": "The outlet, as its domain."},
    "category": {**_TEXT_OR_NULL, "maxLength": MAX_SHORT, "description": "The outlet's section."},
    "title": {"type": "string", "minLength": 1, "maxLength": MAX_TITLE},
    "sapo": {**_TEXT_OR_NULL, "description": "The lead paragraph."},
    "body": {"type": "string", "description": "Plain text; paragraphs separated by one blank line."},
    "author": {**_TEXT_OR_NULL, "maxLength": MAX_SHORT},
    "published": {**_WHEN, "description": "When the outlet published it. " + _WHEN["description"]},
    "updated": {**_WHEN, "description": "When the outlet last changed it. " + _WHEN["description"]},
    "lang": {"type": "string", "description": "BCP 47 language tag (vi for nearly everything)."},
    "images": {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {"url": _TEXT_OR_NULL, "caption": _TEXT_OR_NULL},
            "required": ["url", "caption"],
        },
    },
    "tags": {"type": "array", "items": {"type": "string"}},
    "content_hash": {
        "type": "string",
        "pattern": "^[0-9a-f]{64}$",
        "description": "SHA-256 of the content fields; a different hash is a new version.",
    },
    "ingested_at": {"type": "string", "description": "When the archive received this version (UTC, ISO 8601)."},
}
assert tuple(_PROPERTIES) == FIELDS


def article_schema(base_url: str | None = None) -> dict[str, Any]:
    """The JSON Schema of one record; ``$id`` is absolute when the site's base URL is known."""
    schema: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": (base_url.rstrip("/") if base_url else "") + SCHEMA_PATH,
        "title": "opennews article",
        "description": "One archived Vietnamese news article, as in the dumps, the exports and the API.",
        "type": "object",
        "properties": _PROPERTIES,
        "required": list(FIELDS),
        "additionalProperties": True,
    }
    return schema


def tombstone_schema() -> dict[str, Any]:
    """A withdrawn article in incremental exports and ``withdrawals.ndjson``."""
    return {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "tombstone": {"const": True},
            "withdrawn_at": {"type": "string"},
            "reason": {"type": "string"},
            "purged": {"type": "boolean"},
        },
        "required": ["id", "tombstone", "withdrawn_at"],
    }


def table_schema() -> dict[str, Any]:
    """The Frictionless Table Schema of the CSV form (lists are JSON text: ``array``)."""
    types = {"images": "array", "tags": "array"}
    fields = [
        {"name": name, "type": types.get(name, "string"), "description": _PROPERTIES[name].get("description", "")}
        for name in FIELDS
    ]
    for f in fields:
        if f["name"] in ("id", "source", "title", "body", "lang", "content_hash", "ingested_at"):
            f["constraints"] = {"required": True}
    return {"fields": fields, "primaryKey": ["id"], "missingValues": [""]}
