"""Ingestion: readers per input format and the pipeline that feeds the archive."""

from .pipeline import IngestOptions, IngestReport, InputReport, Progress, Run, ingest
from .records import Found, Reject

__all__ = ["Found", "IngestOptions", "IngestReport", "InputReport", "Progress", "Reject", "Run", "ingest"]
