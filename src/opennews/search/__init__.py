"""Vietnamese-aware search: analyzers, indexer, query language, searcher."""

from .indexer import Indexer, IndexReport, VerifyReport
from .searcher import Hit, Searcher, SearchRequest, SearchResponse

__all__ = ["Hit", "IndexReport", "Indexer", "SearchRequest", "SearchResponse", "Searcher", "VerifyReport"]
