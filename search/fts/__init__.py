"""The embedded search engine: SQLite FTS5 over character bigrams (see `engine` for the design).

`index` holds the table layout and document analysis, `query` turns a search into FTS expressions
and term sets, `sets` keeps the rowid sets of frequent terms; `engine` is the `SearchEngine` itself.
"""

from search.fts.engine import FtsEngine, expression

__all__ = ["FtsEngine", "expression"]
