"""Answers questions about a collection of articles, in Telegram and on the command line."""

__version__ = "0.1.0"
