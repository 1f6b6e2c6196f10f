"""Articles: the type every stage shares, and the loaders' public entry points (see `bot.loaders`).

Kept as the import path callers know (`from bot.articles import Article, load_corpus, parse_bytes`); the
code lives in the `bot.loaders` package, one module per format.
"""

from bot.loaders import (
    COMPRESSED_SUFFIXES,
    MAX_ARTICLE_CHARS,
    MAX_FILE_BYTES,
    MAX_RECORD_BYTES,
    SUPPORTED_EXTENSIONS,
    Article,
    ArticleError,
    CorpusStream,
    LoadResult,
    Problem,
    Skipped,
    clean,
    decode,
    is_supported,
    iter_corpus,
    load_corpus,
    load_file,
    normalize_date,
    normalize_lang,
    parse_bytes,
    readable,
    split_paragraphs,
)

__all__ = [
    "COMPRESSED_SUFFIXES",
    "MAX_ARTICLE_CHARS",
    "MAX_FILE_BYTES",
    "MAX_RECORD_BYTES",
    "SUPPORTED_EXTENSIONS",
    "Article",
    "ArticleError",
    "CorpusStream",
    "LoadResult",
    "Problem",
    "Skipped",
    "clean",
    "decode",
    "is_supported",
    "iter_corpus",
    "load_corpus",
    "load_file",
    "normalize_date",
    "normalize_lang",
    "parse_bytes",
    "readable",
    "split_paragraphs",
]
