"""The OpenAPI 3.1 description of ``/api``: the contract the tests hold responses to.

Schemas are JSON Schema 2020-12 (what OpenAPI 3.1 uses), with ``additionalProperties:
false`` on the objects we build, so a field added to a response without adding it
here fails the tests. The article record keeps its schema open: it is the archive's
record, which may grow.

The parameters say exactly what the API's parser (``params.parse_search(strict=True)``)
accepts, limits, formats and forbidden characters included: schemathesis sends what
this document allows and what it does not, and a 400 for the one or a 200 for the
other fails tests/test_api_contract.py. What no schema can say (a start date after
the end date, ``since`` with a search) is a 422, documented as such.
"""

from __future__ import annotations

from typing import Any

from .. import __version__
from .params import MAX_NAME, MAX_PAGE, MAX_PER_PAGE, MAX_QUERY

__all__ = ["TEXT", "openapi_document"]

_STR_OR_NULL = {"type": ["string", "null"]}

#: Text parameters: any text but the characters params.CONTROL refuses (C0 controls other than
#: tab, line feed and carriage return; U+FFFE, U+FFFF).
TEXT: dict[str, Any] = {"type": "string", "pattern": "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\ufffe\\uffff]*$"}

#: A date parameter: an RFC 3339 full-date. Python's dates start at year 1, so year 0000 (which the
#: format allows) is refused, and the pattern says so.
_DATE: dict[str, Any] = {"type": "string", "format": "date", "pattern": "^(?:[1-9]|0[1-9]|00[1-9]|000[1-9])"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _obj(properties: dict[str, Any], *, required: list[str] | None = None, closed: bool = True) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
        "additionalProperties": not closed,
    }


def _json(schema: dict[str, Any], description: str, media_type: str = "application/json") -> dict[str, Any]:
    return {"description": description, "content": {media_type: {"schema": schema}}}


_ERRORS = {
    "400": _json(
        _ref("Error"), "The request asks for something invalid (too long, bad date, empty value, page beyond the cap…)."
    ),
    "503": _json(_ref("Error"), "The archive or the search index is not available yet."),
}
_CONFLICT = {"422": _json(_ref("Error"), "Parameters valid on their own that cannot go together.")}

_SEARCH_PARAMETERS = [
    {
        "name": "q",
        "in": "query",
        "description": 'The query: words (accents optional), "phrases", OR, -exclude, title:, source:, '
        "category:, author:, from:/to:. Empty lists the newest articles.",
        "schema": {**TEXT, "maxLength": MAX_QUERY},
    },
    {"name": "source", "in": "query", "schema": {**TEXT, "maxLength": MAX_NAME}, "description": "Only this outlet."},
    {"name": "category", "in": "query", "schema": {**TEXT, "maxLength": MAX_NAME}, "description": "Only this section."},
    {
        "name": "from",
        "in": "query",
        "schema": _DATE,
        "description": "Published on or after (YYYY-MM-DD). Not after `to` (a 422).",
    },
    {"name": "to", "in": "query", "schema": _DATE, "description": "Published on or before (YYYY-MM-DD)."},
    {
        "name": "sort",
        "in": "query",
        "schema": {"type": "string", "enum": ["relevance", "newest", "oldest"], "default": "relevance"},
    },
    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1}},
    {
        "name": "limit",
        "in": "query",
        "description": "Results per page (``per_page`` is accepted too).",
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": 10},
    },
    {
        "name": "exact",
        "in": "query",
        "description": "1: search exactly `q`. Without it, a `q` that finds nothing while its Telex or accent "
        "reading finds articles runs that reading instead (`query_run`, `query_reason` say so).",
        "schema": {"type": "string", "enum": ["0", "1"], "default": "0"},
    },
]

_RESULT_PROPERTIES: dict[str, Any] = {
    "id": {"type": "string"},
    "rank": {"type": "integer", "minimum": 1},
    "title": {"type": "string"},
    "url": {**_STR_OR_NULL, "description": "The article at its outlet."},
    "page_url": {"type": "string", "description": "The article page here."},
    "api_url": {"type": "string"},
    "source": {"type": "string"},
    "category": _STR_OR_NULL,
    "author": _STR_OR_NULL,
    "published": {**_STR_OR_NULL, "description": "ISO 8601 in Vietnam time, or a date."},
    "sapo": _STR_OR_NULL,
    "score": {"type": "number"},
}

_SCHEMAS: dict[str, Any] = {
    "Error": _obj({"error": _obj({"status": {"type": "integer"}, "message": {"type": "string"}})}),
    "Result": _obj(
        {
            **_RESULT_PROPERTIES,
            "title_html": {**_STR_OR_NULL, "description": "Escaped HTML: the title with <mark> around matches."},
            "snippet": {**_STR_OR_NULL, "description": "Escaped HTML: a passage with <mark> around matches."},
        }
    ),
    "Related": _obj(_RESULT_PROPERTIES),
    "FacetValue": _obj({"value": {"type": "string"}, "count": {"type": "integer"}, "selected": {"type": "boolean"}}),
    "Count": _obj({"value": _STR_OR_NULL, "count": {"type": "integer"}}),
    "SearchResponse": _obj(
        {
            "query": {"type": "string"},
            "filters": _obj(
                {"source": _STR_OR_NULL, "category": _STR_OR_NULL, "from": _STR_OR_NULL, "to": _STR_OR_NULL}
            ),
            "sort": {"enum": ["relevance", "newest", "oldest"]},
            "page": {"type": "integer"},
            "limit": {"type": "integer"},
            "pages": {"type": "integer"},
            "total": {"type": "integer", "minimum": 0},
            "results": {"type": "array", "items": _ref("Result")},
            "facets": _obj({k: {"type": "array", "items": _ref("FacetValue")} for k in ("source", "category", "year")}),
            "suggestion": {**_STR_OR_NULL, "description": "Did you mean: accents restored or Telex decoded."},
            "suggestion_kind": {"enum": ["accents", "telex", None]},
            "query_run": {
                "type": "string",
                "description": "The query whose results these are: `query` itself, or its reading when `query` "
                "found nothing and the reading found articles.",
            },
            "query_reason": {
                "enum": ["accents", "telex", None],
                "description": "Why `query_run` differs from `query` (null when it does not).",
            },
            "exact": {"type": "boolean", "description": "Whether `exact=1` was asked for."},
            "exact_url": {
                **_STR_OR_NULL,
                "description": "When a reading ran: this search for exactly `query`, without the reading.",
            },
            "relaxed": {"type": "boolean", "description": "True when not every word could be matched."},
            "notes": {"type": "array", "items": {"type": "string"}},
            "next": {**_STR_OR_NULL, "description": "The next page of this search."},
            "prev": _STR_OR_NULL,
            "took_ms": {"type": "number"},
        }
    ),
    "Image": _obj({"url": _STR_OR_NULL, "caption": _STR_OR_NULL}, required=["url"], closed=False),
    "Article": _obj(
        {
            "id": {"type": "string"},
            "url": _STR_OR_NULL,
            "source": {"type": "string"},
            "category": _STR_OR_NULL,
            "title": {"type": "string"},
            "sapo": _STR_OR_NULL,
            "body": _STR_OR_NULL,
            "author": _STR_OR_NULL,
            "published": _STR_OR_NULL,
            "updated": _STR_OR_NULL,
            "lang": {"type": "string"},
            "images": {"type": "array", "items": _ref("Image")},
            "tags": {"type": "array", "items": {"type": "string"}},
            "content_hash": {"type": "string"},
            "ingested_at": {"type": "string"},
        },
        required=["id", "source", "title", "content_hash"],
        closed=False,
    ),
    "ArticleResponse": _obj(
        {
            "article": _ref("Article"),
            "page_url": {"type": "string"},
            "related": {"type": "array", "items": _ref("Related")},
            "feeds": _obj({"latest": {"type": "string"}, "source": {"type": "string"}}),
        }
    ),
    "Withdrawn": _obj(
        {
            "withdrawn": _obj(
                {
                    "id": {"type": "string"},
                    "withdrawn_at": {"type": "string"},
                    "reason": {"type": "string"},
                    "purged": {"type": "boolean"},
                }
            )
        }
    ),
    "Suggestions": {
        "description": (
            "OpenSearch suggestions: [query, completions, descriptions, URLs]. The query with its last syllable"
            " completed comes first, then the did-you-mean reading, then headlines of the best matches; at most 8,"
            " each once."
        ),
        "type": "array",
        "prefixItems": [
            {"type": "string"},
            {"type": "array", "items": {"type": "string"}, "maxItems": 8},
            {"type": "array", "items": {"type": "string"}, "maxItems": 8},
            {"type": "array", "items": {"type": "string"}, "maxItems": 8},
        ],
        "minItems": 4,
        "maxItems": 4,
    },
    "Stats": _obj(
        {
            "articles": {"type": "integer"},
            "sources": {"type": "integer"},
            "versions": {"type": "integer"},
            "withdrawn": {"type": "integer"},
            "top_sources": {"type": "array", "items": _ref("Count")},
            "top_categories": {"type": "array", "items": _ref("Count")},
            "by_year": {"type": "array", "items": _ref("Count")},
            "published_range": _obj({"first": _STR_OR_NULL, "last": _STR_OR_NULL}),
            "index": _obj({"available": {"type": "boolean"}, "documents": {"type": ["integer", "null"]}}),
            "last_change": {"type": "integer"},
        }
    ),
}


_SCHEMAS["DumpFile"] = _obj(
    {
        "name": {"type": "string", "description": "The file, at /dumps/{name}."},
        "part": {"type": "string", "description": "YYYY-MM (month of publication), undated, all or withdrawals."},
        "format": {"enum": ["ndjson", "csv", "parquet"]},
        "compression": {"enum": ["gzip", "zstd", None]},
        "records": {"type": "integer", "minimum": 0},
        "bytes": {"type": "integer", "minimum": 0},
        "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
        "first_published": _STR_OR_NULL,
        "last_published": _STR_OR_NULL,
        "generated_at": {"type": "string"},
        "closed": {"type": "boolean", "description": "A past month: rewritten only if its records change."},
        "digest": {"type": "string", "description": "SHA-256 of the uncompressed records."},
    }
)
_SCHEMAS["Manifest"] = _obj(
    {
        "version": {"type": "integer"},
        "generator": {"type": "string"},
        "generated_at": {"type": "string"},
        "archive": _obj(
            {"articles": {"type": "integer"}, "withdrawn": {"type": "integer"}, "last_change": {"type": "integer"}}
        ),
        "schema": {"type": "string"},
        "schema_url": {"type": "string"},
        "licenses": {"type": "array", "items": {"type": "object"}},
        "files": {"type": "array", "items": _ref("DumpFile")},
    }
)
_SCHEMAS["Tombstone"] = _obj(
    {
        "id": {"type": "string"},
        "tombstone": {"const": True},
        "withdrawn_at": {"type": "string"},
        "reason": {"type": "string"},
        "purged": {"type": "boolean"},
    }
)

# -- the write API (web/writes.py): the only operations that need a token ----------------------

_SCHEMAS["IngestResult"] = _obj(
    {
        "run": {"type": "integer", "description": "The run's number in the run log (opennews runs)."},
        "added": {"type": "integer"},
        "updated": {"type": "integer", "description": "Known articles whose text changed: a new version."},
        "unchanged": {"type": "integer"},
        "rejected": {"type": "integer", "description": "Records refused; the first 1,000 are listed."},
        "rejects": {
            "type": "array",
            "items": _obj(
                {
                    "where": {"type": "string", "description": "Where in the body: line 3, record 2…"},
                    "reason": {"type": "string"},
                }
            ),
        },
    }
)
_SCHEMAS["Withdrawal"] = _obj(
    {"reason": {**TEXT, "minLength": 1, "description": "Why it is taken down (kept in the tombstone)."}},
)
_SCHEMAS["WriteResult"] = _obj(
    {"id": {"type": "string"}, "withdrawn": {"type": "boolean"}, "reason": {"type": "string"}},
    required=["id", "withdrawn"],
)

_SECURITY = [{"bearerAuth": []}]
_WRITE_ERRORS = {
    "401": {
        **_json(_ref("Error"), "No token, or one that is not valid or was revoked."),
        "headers": {"WWW-Authenticate": {"schema": {"type": "string"}, "description": 'Bearer realm="opennews"'}},
    },
    "403": _json(_ref("Error"), "The token's scope does not allow this (ingest, or withdraw)."),
    "413": _json(_ref("Error"), "The body is over the cap (16 MiB unless the operator set OPENNEWS_MAX_WRITE_BYTES)."),
    "415": _json(_ref("Error"), "The body is not of a type this operation reads."),
    "429": {
        **_json(_ref("Error"), "Too many requests with this token (60 a minute unless set otherwise)."),
        "headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}},
    },
}
_ID = {"name": "id", "in": "path", "required": True, "schema": {**TEXT, "minLength": 1}}


def _change(summary: str, description: str, body: dict[str, Any] | None) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": summary,
        "description": description,
        "security": _SECURITY,
        "parameters": [_ID],
        "responses": {
            "200": _json(_ref("WriteResult"), "Done; search, feeds and dumps follow within seconds."),
            "400": _json(_ref("Error"), "No reason given."),
            "404": _json(_ref("Error"), "No article with this id."),
            "409": _json(_ref("Error"), "Not possible now (already withdrawn; not withdrawn; purged)."),
            **_WRITE_ERRORS,
        },
    }
    if body is not None:
        operation["requestBody"] = body
    return operation


_WRITE_PATHS: dict[str, Any] = {
    "/api/articles": {
        "post": {
            "summary": "Add or update articles (token with scope ingest)",
            "description": "Read exactly as `opennews ingest` reads a file: the same validation, limits and "
            "dedupe. Good records are kept even when others are rejected; the answer lists each reject.",
            "security": _SECURITY,
            "requestBody": {
                "required": True,
                "content": {
                    "application/x-ndjson": {"schema": {"type": "string", "description": "One record per line."}},
                    "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
                },
            },
            "responses": {
                "200": _json(_ref("IngestResult"), "The body was read: counts and rejects."),
                **_WRITE_ERRORS,
            },
        }
    },
    "/api/articles/{id}/withdraw": {
        "post": _change(
            "Take an article down, leaving a tombstone (token with scope withdraw)",
            "As `opennews withdraw`: search, feeds, dumps and the API stop showing it.",
            {"required": True, "content": {"application/json": {"schema": _ref("Withdrawal")}}},
        )
    },
    "/api/articles/{id}/restore": {
        "post": _change("Bring a withdrawn article back (token with scope withdraw)", "As `opennews restore`.", None)
    },
}

_EXPORT_PARAMETERS = [
    {
        "name": "format",
        "in": "query",
        "schema": {"type": "string", "enum": ["ndjson", "json", "csv"], "default": "ndjson"},
        "description": "NDJSON (one record per line), a JSON array, or CSV (lists as JSON text). "
        "CSV cannot carry tombstones: not with since or cursor (a 422).",
    },
    {
        "name": "since",
        "in": "query",
        "schema": {"type": "string", "maxLength": 64, "anyOf": [{"format": "date-time"}, {"format": "date"}]},
        "description": "An RFC 3339 moment, or a date (its midnight in Vietnam time): only articles ingested, "
        "changed or withdrawn after it (withdrawn ones as tombstones). The X-Next-Cursor header gives the cursor "
        "for the next call. Not with a search (a 422).",
    },
    {
        "name": "cursor",
        "in": "query",
        "schema": {"type": "integer", "minimum": 0, "maximum": 10**18 - 1},
        "description": "Only changes after this cursor (exact; prefer it to since for repeated calls, and it "
        "wins over since when both are given). Not with a search (a 422).",
    },
    *[p for p in _SEARCH_PARAMETERS if p["name"] in ("q", "source", "category", "from", "to")],
    {
        "name": "exact",
        "in": "query",
        "description": "Accepted as in a search; an export always takes `q` exactly as given, never a reading.",
        "schema": {"type": "string", "enum": ["0", "1"], "default": "0"},
    },
]


def openapi_document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "opennews API",
            "version": __version__,
            "description": "Search and read an open archive of Vietnamese news. Every HTML page has a twin "
            "here returning the same data. Reads are open; no key needed. Writes (adding, withdrawing and "
            "restoring articles) need a token (bearerAuth).",
            "license": {"name": "Apache-2.0 (code); article texts remain their outlets'", "identifier": "Apache-2.0"},
        },
        "paths": {
            "/api/search": {
                "get": {
                    "summary": "Search articles (Vietnamese-aware; accents optional)",
                    "parameters": _SEARCH_PARAMETERS,
                    "responses": {"200": _json(_ref("SearchResponse"), "One page of results."), **_ERRORS, **_CONFLICT},
                }
            },
            "/api/articles/{id}": {
                "get": {
                    "summary": "One article with related articles",
                    "parameters": [{"name": "id", "in": "path", "required": True, "schema": {**TEXT, "minLength": 1}}],
                    "responses": {
                        "200": _json(_ref("ArticleResponse"), "The article as archived."),
                        "404": _json(_ref("Error"), "No article with this id."),
                        "410": _json(_ref("Withdrawn"), "The article was withdrawn; the tombstone says why."),
                        **_ERRORS,
                    },
                }
            },
            "/api/suggest": {
                "get": {
                    "summary": "Search suggestions (OpenSearch suggestions format)",
                    "parameters": [_SEARCH_PARAMETERS[0]],
                    "responses": {
                        "200": _json(_ref("Suggestions"), "Suggestions.", "application/x-suggestions+json"),
                        **_ERRORS,
                    },
                }
            },
            "/api/stats": {
                "get": {
                    "summary": "What the archive holds",
                    "responses": {"200": _json(_ref("Stats"), "Counts."), **_ERRORS},
                }
            },
            "/api/export": {
                "get": {
                    "summary": "Stream every article, the changes since a moment, or every match of a search",
                    "description": "In constant memory, in one response. Without parameters: the whole archive in "
                    "archive order. With q/source/category/from/to: every match, newest first (X-Total-Count). "
                    "With since or cursor: each changed article once, as its record or a tombstone.",
                    "parameters": _EXPORT_PARAMETERS,
                    "responses": {
                        "200": {
                            "description": "The records (and tombstones, for since/cursor).",
                            "content": {
                                "application/x-ndjson": {
                                    "schema": {"oneOf": [_ref("Article"), _ref("Tombstone")]},
                                },
                                "application/json": {
                                    "schema": {
                                        "type": "array",
                                        "items": {"oneOf": [_ref("Article"), _ref("Tombstone")]},
                                    }
                                },
                                "text/csv": {"schema": {"type": "string"}},
                            },
                            "headers": {
                                "X-Next-Cursor": {"schema": {"type": "integer"}, "description": "since/cursor only."},
                                "X-Total-Count": {"schema": {"type": "integer"}, "description": "searches only."},
                            },
                        },
                        **_ERRORS,
                        **_CONFLICT,
                    },
                }
            },
            "/api/dumps": {
                "get": {
                    "summary": "The dump files (the manifest): names, counts, sizes, SHA-256",
                    "responses": {
                        "200": _json(_ref("Manifest"), "The manifest; files are at /dumps/{name}."),
                        "404": _json(_ref("Error"), "No dump files have been written yet."),
                    },
                }
            },
            "/api/openapi.json": {
                "get": {
                    "summary": "This document",
                    "responses": {"200": _json({"type": "object"}, "OpenAPI 3.1")},
                }
            },
            **_WRITE_PATHS,
        },
        "components": {
            "schemas": _SCHEMAS,
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A token from `opennews tokens create` (only writes need one).",
                }
            },
        },
    }
