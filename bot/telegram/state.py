"""The one object the handlers share, kept in application.bot_data["state"]."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from telegram.ext import Application, ContextTypes

from bot.search import Engine
from bot.settings import Settings
from bot.telegram.corpus import CorpusLibrary
from bot.telegram.guard import Metrics
from bot.telegram.shared import AnswerKeys, Backends, UserLimiter


@dataclass
class BotState:
    """Everything the handlers share: settings, the corpus, the shared-state backends, usage figures.

    Shared state sits behind the async interfaces of bot.telegram.shared (in memory for one process).
    """

    settings: Settings
    library: CorpusLibrary
    backends: Backends
    metrics: Metrics = field(default_factory=Metrics)

    @property
    def engine(self) -> Engine:
        return self.library.engine

    @property
    def answers(self) -> AnswerKeys:
        return self.backends.answer_keys

    @property
    def limiter(self) -> UserLimiter:
        return self.backends.user_limiter

    def is_admin(self, user_id: int | None) -> bool:
        return user_id is not None and user_id in self.settings.admin_ids


def state_of(context: ContextTypes.DEFAULT_TYPE) -> BotState:
    return context.bot_data["state"]


def state_of_app(application: Application[Any, Any, Any, Any, Any, Any]) -> BotState:
    return application.bot_data["state"]
