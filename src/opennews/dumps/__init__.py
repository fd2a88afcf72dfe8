"""Dataset files and exports built from the archive: monthly dumps, manifests, streaming exports.

No HTTP here: the web app serves what this package writes and streams what it yields.
"""

from .export import ChangeWindow, ExportError, Tally, changes_window, parse_since, stream_all, stream_ids, stream_since
from .formats import FORMATS, MEDIA_TYPES
from .manifest import LICENCES, METADATA_FILES, is_dump_name, load_manifest
from .schema import SCHEMA_PATH, article_schema
from .verify import VerifyReport, verify_dumps
from .writer import BuildReport, build_dumps

__all__ = [
    "FORMATS",
    "LICENCES",
    "MEDIA_TYPES",
    "METADATA_FILES",
    "SCHEMA_PATH",
    "BuildReport",
    "ChangeWindow",
    "ExportError",
    "Tally",
    "VerifyReport",
    "article_schema",
    "build_dumps",
    "changes_window",
    "is_dump_name",
    "load_manifest",
    "parse_since",
    "stream_all",
    "stream_ids",
    "stream_since",
    "verify_dumps",
]
