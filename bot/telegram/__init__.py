"""The Telegram bot (python-telegram-bot v22): a thin layer over the search core.

`build_application(settings, library)` builds it, `serve()` runs it, `run(settings)` is
`python -m bot run`. Nothing outside this package imports Telegram.
"""

from bot.telegram.app import build_application, run, serve
from bot.telegram.backends import open_library
from bot.telegram.guard import install_redaction

__all__ = ["build_application", "install_redaction", "open_library", "run", "serve"]
