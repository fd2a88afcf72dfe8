"""The dumps folder's self-description: ``manifest.json``, ``datapackage.json``, the record schema.

``manifest.json`` is what tools and mirrors read: per file its name, record count,
size, SHA-256, publication range and when it was written. ``datapackage.json`` says the
same to Frictionless tools, with the Table Schema, licences and sources.
``article.schema.json`` is the JSON Schema of one record (also served at a stable URL).

The three are written atomically after the data files, manifest last, so a reader
that sees a manifest always finds every file it lists.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import orjson

from .. import __version__
from ..files import write_atomically
from .schema import SCHEMA_PATH, article_schema, table_schema

__all__ = [
    "DATAPACKAGE",
    "LICENCES",
    "MANIFEST",
    "METADATA_FILES",
    "SCHEMA_FILE",
    "datapackage",
    "is_dump_name",
    "load_manifest",
    "write_metadata",
]

MANIFEST = "manifest.json"
DATAPACKAGE = "datapackage.json"
SCHEMA_FILE = "article.schema.json"
METADATA_FILES = (MANIFEST, DATAPACKAGE, SCHEMA_FILE)
MANIFEST_VERSION = 1

#: The terms the data is published under: the same words as the about page and the API.
LICENCES: list[dict[str, str]] = [
    {
        "name": "Apache-2.0",
        "path": "https://www.apache.org/licenses/LICENSE-2.0",
        "title": "Apache-2.0 for the opennews software and the dump format; article texts remain the "
        "copyright of their outlets, archived for search, research and the public record",
    }
]

_DUMP_NAME = re.compile(
    r"^(articles-(\d{4}-\d{2}|undated|all)\.(ndjson\.gz|ndjson\.zst|csv\.gz|parquet)|withdrawals\.ndjson\.(gz|zst))$"
)
_MEDIA = {"ndjson": "application/x-ndjson", "csv": "text/csv", "parquet": "application/vnd.apache.parquet"}


def is_dump_name(name: str) -> bool:
    """Whether ``name`` has the shape of a data file the writer makes (nothing else is ever deleted or served)."""
    return bool(_DUMP_NAME.match(name))


def load_manifest(directory: Path) -> dict[str, Any] | None:
    try:
        data = orjson.loads((Path(directory) / MANIFEST).read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("files"), list) else None


def _resource_name(file_name: str) -> str:
    return re.sub(r"[^a-z0-9._-]", "-", file_name.lower())


def datapackage(manifest: dict[str, Any]) -> dict[str, Any]:
    """A Frictionless Data Package describing every file of the manifest."""
    resources = []
    for e in manifest["files"]:
        resource: dict[str, Any] = {
            "name": _resource_name(e["name"]),
            "path": e["name"],
            "profile": "tabular-data-resource" if e["format"] == "csv" else "data-resource",
            "format": e["format"],
            "mediatype": _MEDIA[e["format"]],
            "encoding": "utf-8",
            "bytes": e["bytes"],
            "hash": f"sha256:{e['sha256']}",
            "description": f"{e['records']} records; part {e['part']}",
        }
        if e["compression"]:
            resource["compression"] = {"gzip": "gz", "zstd": "zst"}[e["compression"]]
        if e["format"] == "csv":
            resource["schema"] = table_schema()
            resource["dialect"] = {"delimiter": ",", "lineTerminator": "\r\n", "header": True}
        else:
            resource["schema"] = SCHEMA_FILE
        resources.append(resource)
    return {
        "profile": "data-package",
        "name": "opennews-vietnamese-news",
        "title": "opennews: an open archive of Vietnamese news",
        "description": "Vietnamese news articles as archived by opennews: one record per article "
        "(id, url, source, category, title, sapo, body, author, dates, images, tags, content hash). "
        "Monthly NDJSON files by date of publication, a full snapshot in NDJSON, CSV and Parquet, "
        "and the withdrawn articles as tombstones.",
        "version": manifest["generated_at"],
        "created": manifest["generated_at"],
        "homepage": "/dumps/",
        "keywords": ["vietnamese", "news", "open-data", "ndjson"],
        "licenses": LICENCES,
        "sources": [
            {"title": f"{n} articles from Vietnamese news outlets; each record's url links its original"}
            for n in [manifest["archive"]["articles"]]
        ],
        "contributors": [{"title": "opennews maintainers", "role": "publisher"}],
        "resources": resources,
    }


def write_metadata(directory: Path, files: list[dict[str, Any]], archive: dict[str, Any], stamp: str) -> None:
    """Write the schema, the datapackage and then the manifest describing ``files``."""
    directory = Path(directory)
    manifest = {
        "version": MANIFEST_VERSION,
        "generator": f"opennews {__version__}",
        "generated_at": stamp,
        "archive": archive,
        "schema": SCHEMA_FILE,
        "schema_url": SCHEMA_PATH,
        "licenses": LICENCES,
        "files": files,
    }
    write_atomically(directory / SCHEMA_FILE, orjson.dumps(article_schema(), option=orjson.OPT_INDENT_2) + b"\n")
    write_atomically(directory / DATAPACKAGE, orjson.dumps(datapackage(manifest), option=orjson.OPT_INDENT_2) + b"\n")
    write_atomically(directory / MANIFEST, orjson.dumps(manifest, option=orjson.OPT_INDENT_2) + b"\n")
