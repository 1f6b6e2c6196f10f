"""Size bounds of loading: what one article, one record and one single-document file may weigh.

Memory while loading is bounded by these, never by the size of a multi-article file (JSONL is read line
by line, a large JSON list element by element). Anything over a bound is skipped with the reason.
"""

from __future__ import annotations

MB = 1024 * 1024

MAX_FILE_BYTES = 32 * MB  # a single-document file (.txt, .md, .html, a .json object), decompressed
MAX_RECORD_BYTES = 32 * MB  # one JSONL line or one element of a JSON list, as raw JSON
MAX_ARTICLE_CHARS = 4 * MB  # the text of one article, in characters
MAX_FRONT_MATTER_BYTES = 64 * 1024  # YAML front matter of a .md file
MAX_YAML_DEPTH = 20  # nesting of YAML collections
MAX_YAML_NODES = 10_000  # YAML nodes after expanding aliases (a "billion laughs" is refused)
MAX_HTML_ELEMENTS = 15_000  # above this, trafilatura's cost grows faster than linearly: plain extraction
GZIP_MAX_RATIO = 250  # decompressed / compressed bytes, checked past GZIP_RATIO_FLOOR: more is a bomb
GZIP_RATIO_FLOOR = 16 * MB
MAX_LISTED_PROBLEMS = 100  # bad lines of one file listed one by one; the rest are counted


def mb(n: int) -> str:
    """A byte count as the report shows it."""
    if n >= MB:
        return f"{n / MB:.1f} MB"
    return f"{n / 1024:.0f} KB" if n >= 1024 else f"{n} bytes"
