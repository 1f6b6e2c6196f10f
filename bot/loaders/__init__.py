"""Article files -> articles (metadata + paragraphs), streamed.

One module per format (`txt`, `md`, `jsonfile`, `jsonl`, `html`), each a reader with the same contract:
`read(name, stream) -> Iterator[Article | Problem]` over a binary stream, yielding the document's articles
and the parts it had to leave out, holding no more than one article (or one single-document file) at a
time, and raising ArticleError when the whole document is unusable. `files` finds and opens files safely,
`streams` bounds reading and decompression, `decoding` turns bytes into text, `fields` normalises
metadata, and `corpus` puts them together: `iter_corpus`, `load_corpus`, `load_file`, `parse_bytes`.
"""

import pkgutil

from bot.loaders.corpus import CorpusStream, iter_corpus, load_corpus, load_file, parse_bytes
from bot.loaders.decoding import decode, readable
from bot.loaders.fields import clean, normalize_date, normalize_lang, split_paragraphs
from bot.loaders.files import COMPRESSED_SUFFIXES, SUPPORTED_EXTENSIONS, is_supported
from bot.loaders.limits import MAX_ARTICLE_CHARS, MAX_FILE_BYTES, MAX_RECORD_BYTES
from bot.loaders.model import Article, ArticleError, LoadResult, Problem, Skipped

# The modules whose code decides what loading yields (an index built by other code is out of date).
MODULES = (__name__, *(f"{__name__}.{m.name}" for m in pkgutil.iter_modules(__path__)))

__all__ = [
    "COMPRESSED_SUFFIXES",
    "MAX_ARTICLE_CHARS",
    "MAX_FILE_BYTES",
    "MAX_RECORD_BYTES",
    "MODULES",
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
