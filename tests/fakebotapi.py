"""A local fake of the Telegram Bot API for end-to-end tests.

The server speaks the real Bot API over HTTP, so an unmodified
``telegram.ext.Application`` (python-telegram-bot v22) can run against it::

    async with FakeBotAPI() as api:
        app = api.application_builder().build()      # or build it yourself:
        # ApplicationBuilder().token(api.token)
        #     .base_url(f"{api.url}/bot").base_file_url(f"{api.url}/file/bot")
        api.push_command("/start")
        ...
        call = await api.wait_for("sendMessage")
        assert "Welcome" in call.params["text"]

or, when the bot runs in its own thread / event loop::

    with FakeBotAPI.running_in_thread() as api:
        ...

URL layout (same as api.telegram.org): ``{api.url}/bot<token>/<method>`` and
``{api.url}/file/bot<token>/<file_path>``.

Validation mirrors Telegram where it matters for catching bot bugs:
HTML / MarkdownV2 / Markdown parsing is a port of tdlib's parsers (same error
texts, e.g. ``Bad Request: can't parse entities: Unsupported start tag "br" at
byte offset 4``), text lengths are counted in UTF-16 code units after entity
parsing, inline keyboards are checked (``BUTTON_DATA_INVALID``), inline query
answers are checked (at most 50 results, unique ids, their message texts), and
editing a message with identical content fails with ``message is not
modified``.  One deliberate deviation: by default (``strict_html=True``) a bare
``&`` that does not start ``&lt;`` ``&gt;`` ``&amp;`` ``&quot;`` or a numeric
reference (terminated by ``;``) is rejected.  Real Telegram silently keeps it
as a literal, but a bot that relies on this is one ``html.escape`` away from a
broken message, so the fake is stricter.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import hashlib
import itertools
import json
import logging
import re
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import aiohttp
from aiohttp import web

__all__ = [
    "DEFAULT_TOKEN",
    "Call",
    "EntityParseError",
    "FakeBotAPI",
    "UploadedFile",
    "parse_html",
    "parse_markdown",
    "parse_markdown_v2",
    "utf16_len",
]

_LOG = logging.getLogger(__name__)

DEFAULT_TOKEN = "123456789:AAFakeTokenForLocalTests_0123456789ab"

MAX_MESSAGE_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_INLINE_RESULTS = 50
MAX_DOWNLOAD_SIZE = 20 * 1024 * 1024
# How long wait_for / wait_for_sync wait by default: they return as soon as the call comes, so a generous
# bound costs passing tests nothing and keeps a loaded machine (CI, shared cores) from failing them.
WAIT_SECONDS = 30.0

# Every method of the Bot API (as of Bot API 9.x / PTB 22.x).  Known methods without a
# dedicated handler are recorded and answered with ``true``; anything else is a 404.
_KNOWN_METHODS = """
addStickerToSet answerCallbackQuery answerGuestQuery answerInlineQuery answerPreCheckoutQuery
answerShippingQuery answerWebAppQuery approveChatJoinRequest approveSuggestedPost banChatMember
banChatSenderChat close closeForumTopic closeGeneralForumTopic convertGiftToStars copyMessage
copyMessages createChatInviteLink createChatSubscriptionInviteLink createForumTopic
createInvoiceLink createNewStickerSet declineChatJoinRequest declineSuggestedPost
deleteAllMessageReactions deleteBusinessMessages deleteChatPhoto deleteChatStickerSet
deleteForumTopic deleteMessage deleteMessageReaction deleteMessages deleteMyCommands
deleteStickerFromSet deleteStickerSet deleteStory deleteWebhook editChatInviteLink
editChatSubscriptionInviteLink editForumTopic editGeneralForumTopic editMessageCaption
editMessageChecklist editMessageLiveLocation editMessageMedia editMessageReplyMarkup
editMessageText editStory editUserStarSubscription exportChatInviteLink forwardMessage
forwardMessages getAvailableGifts getBusinessAccountGifts getBusinessAccountStarBalance
getBusinessConnection getChat getChatAdministrators getChatGifts getChatMember
getChatMemberCount getChatMenuButton getCustomEmojiStickers getFile getForumTopicIconStickers
getGameHighScores getManagedBotAccessSettings getManagedBotToken getMe getMyCommands
getMyDefaultAdministratorRights getMyDescription getMyName getMyShortDescription
getMyStarBalance getStarTransactions getStickerSet getUpdates getUserChatBoosts getUserGifts
getUserPersonalChatMessages getUserProfileAudios getUserProfilePhotos getWebhookInfo
giftPremiumSubscription hideGeneralForumTopic leaveChat logOut pinChatMessage postStory
promoteChatMember readBusinessMessage refundStarPayment removeBusinessAccountProfilePhoto
removeChatVerification removeMyProfilePhoto removeUserVerification reopenForumTopic
reopenGeneralForumTopic replaceManagedBotToken replaceStickerInSet repostStory
restrictChatMember revokeChatInviteLink savePreparedInlineMessage savePreparedKeyboardButton
sendAnimation sendAudio sendChatAction sendChecklist sendContact sendDice sendDocument sendGame
sendGift sendInvoice sendLivePhoto sendLocation sendMediaGroup sendMessage sendMessageDraft
sendPaidMedia sendPhoto sendPoll sendSticker sendVenue sendVideo sendVideoNote sendVoice
setBusinessAccountBio setBusinessAccountGiftSettings setBusinessAccountName
setBusinessAccountProfilePhoto setBusinessAccountUsername setChatAdministratorCustomTitle
setChatDescription setChatMemberTag setChatMenuButton setChatPermissions setChatPhoto
setChatStickerSet setChatTitle setCustomEmojiStickerSetThumbnail setGameScore
setManagedBotAccessSettings setMessageReaction setMyCommands setMyDefaultAdministratorRights
setMyDescription setMyName setMyProfilePhoto setMyShortDescription setPassportDataErrors
setStickerEmojiList setStickerKeywords setStickerMaskPosition setStickerPositionInSet
setStickerSetThumbnail setStickerSetTitle setUserEmojiStatus setWebhook stopMessageLiveLocation
stopPoll transferBusinessAccountStars transferGift unbanChatMember unbanChatSenderChat
unhideGeneralForumTopic unpinAllChatMessages unpinAllForumTopicMessages
unpinAllGeneralForumTopicMessages unpinChatMessage upgradeGift uploadStickerFile verifyChat
verifyUser
""".split()

_DEFAULT_ALLOWED_UPDATES = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "purchased_paid_media",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_join_request",
        "chat_boost",
        "removed_chat_boost",
    }
)  # Telegram's default: everything except chat_member, message_reaction(_count)

_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)

# Request fields whose (form-encoded) value is a JSON-serialised object/array.
_JSON_FIELDS = frozenset(
    {
        "reply_markup",
        "results",
        "commands",
        "entities",
        "caption_entities",
        "scope",
        "reply_parameters",
        "link_preview_options",
        "allowed_updates",
        "button",
        "options",
        "permissions",
        "rights",
        "menu_button",
        "prices",
        "explanation_entities",
        "question_entities",
        "text_entities",
        "reaction",
        "message_ids",
        "mask_position",
        "emoji_list",
        "keywords",
        "shipping_options",
        "errors",
        "input_message_content",
        "suggested_post_parameters",
        "checklist",
        "accepted_gift_types",
        "stickers",
        "reply_to_checklist_task_id",
        "areas",
        "content",
    }
)
_MAYBE_JSON_FIELDS = frozenset({"media", "sticker", "photo", "result"})
_INT_FIELDS = frozenset(
    {
        "chat_id",
        "from_chat_id",
        "message_id",
        "user_id",
        "offset",
        "limit",
        "timeout",
        "cache_time",
        "reply_to_message_id",
        "message_thread_id",
        "max_connections",
        "width",
        "height",
        "duration",
        "length",
        "live_period",
        "heading",
        "proximity_alert_radius",
        "correct_option_id",
        "open_period",
        "close_date",
        "until_date",
        "sender_chat_id",
        "position",
        "score",
        "expire_date",
        "member_limit",
        "direct_messages_topic_id",
        "star_count",
        "subscription_period",
        "subscription_price",
        "draft_id",
        "icon_color",
    }
)
_BOOL_PREFIXES = (
    "is_",
    "can_",
    "has_",
    "disable_",
    "allow",
    "show_",
    "only_",
    "supports_",
    "protect_",
    "drop_",
    "revoke_",
    "for_channels",
    "cover",
    "needs_",
    "send_",
    "force",
    "hide_",
    "remove_",
    "selective",
    "pay_",
    "keep_",
)
_BOOL_FIELDS = frozenset({"is_personal", "show_alert", "for_channels", "reset_thumbnail"})


# --------------------------------------------------------------------------------------
# Errors / helpers
# --------------------------------------------------------------------------------------


class ApiError(Exception):
    """Raised inside handlers; turned into a Bot API error response."""

    def __init__(self, code: int, description: str, parameters: dict | None = None):
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def payload(self) -> dict:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def _bad(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


class EntityParseError(ValueError):
    """Text markup could not be parsed (message is the tdlib-style reason)."""


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units (what Telegram counts)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8", "surrogatepass"))


@dataclass
class UploadedFile:
    """A file part received in a multipart request (appears inside ``Call.params``)."""

    field: str
    filename: str | None
    content_type: str | None
    data: bytes

    def __repr__(self) -> str:  # keep call dumps readable
        return f"UploadedFile(field={self.field!r}, filename={self.filename!r}, size={len(self.data)})"


class Call(tuple):
    """One recorded Bot API call.

    Behaves like the 2-tuple ``(method, params)`` (so ``method, params = call`` works) and
    additionally carries ``index``, ``status`` (HTTP status), ``response`` (the JSON body
    returned), ``ok``, ``result``, ``error`` (description or None), ``content_type``,
    ``started`` (when the request arrived) and ``time`` (when it was answered or dropped).
    """

    def __new__(
        cls,
        method: str,
        params: dict,
        *,
        index: int,
        status: int,
        response: dict,
        content_type: str | None = None,
        started: float | None = None,
    ):
        self = super().__new__(cls, (method, params))
        self.index = index
        self.status = status
        self.response = response
        self.content_type = content_type
        self.time = time.time()
        self.started = self.time if started is None else started
        return self

    @property
    def method(self) -> str:
        return self[0]

    @property
    def params(self) -> dict:
        return self[1]

    @property
    def ok(self) -> bool:
        return bool(self.response.get("ok"))

    @property
    def result(self) -> Any:
        return self.response.get("result")

    @property
    def error(self) -> str | None:
        return None if self.ok else self.response.get("description")

    def __repr__(self) -> str:
        outcome = "ok" if self.ok else f"{self.status} {self.error!r}"
        return f"Call(#{self.index} {self.method} {self.params!r} -> {outcome})"


# --------------------------------------------------------------------------------------
# Text markup parsers (ports of tdlib's parse_html / parse_markdown_v2 / parse_markdown)
# --------------------------------------------------------------------------------------

_SPACES = " \t\r\n\0\v\f"
_HTML_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "tg-emoji",
        "span",
        "pre",
        "code",
        "blockquote",
    }
)
_ASCII_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
_HEX = frozenset("0123456789abcdefABCDEF")
_TG_ENTITY_TYPES = {
    "Bold": "bold",
    "Italic": "italic",
    "Underline": "underline",
    "Strikethrough": "strikethrough",
    "Spoiler": "spoiler",
    "Code": "code",
    "Pre": "pre",
    "PreCode": "pre",
    "TextUrl": "text_link",
    "CustomEmoji": "custom_emoji",
    "BlockQuote": "blockquote",
}


def _u16(ch: str) -> int:
    return 2 if ord(ch) > 0xFFFF else 1


def _decode_html_entity(text: str, pos: int) -> tuple[int, int, bool]:
    """tdlib's decode_html_entity. Returns (code point or 0, new position, had ';')."""
    n = len(text)

    def at(k: int) -> str:
        return text[k] if k < n else "\0"

    end = pos + 1
    res = 0
    if at(pos + 1) == "#":
        end += 1
        if at(pos + 2) == "x":
            end += 1
            while at(end) in _HEX:
                res = res * 16 + int(at(end), 16)
                end += 1
        else:
            while "0" <= at(end) <= "9":
                res = res * 10 + ord(at(end)) - 48
                end += 1
        if res == 0 or res >= 0x10FFFF or end - pos >= 10:
            return 0, pos, False
    else:
        while at(end).isascii() and at(end).isalpha():
            end += 1
        name = text[pos + 1 : end]
        res = {"lt": 60, "gt": 62, "amp": 38, "quot": 34}.get(name, 0)
        if not res:
            return 0, pos, False
    if at(end) == ";":
        return res, end + 1, True
    return res, end, False


def _checked_link(url: str) -> str | None:
    """Rough equivalent of tdlib's LinkManager::get_checked_link (None = invalid)."""
    url = url.strip()
    if not url or any(c in url for c in ' \n\t<>"') or len(url) > 2048:
        return None
    m = re.match(r"^([a-zA-Z][a-zA-Z0-9+.-]*):(//)?(.*)$", url)
    if m and m.group(1).lower() in {"http", "https", "ftp", "tg", "ton", "tonsite"}:
        return url if m.group(3) else None
    if m and m.group(2):
        return None  # unsupported scheme
    if re.match(r"^[\w-]+(\.[\w-]+)+(:\d+)?([/?#].*)?$", url):
        return "http://" + url
    return None


def _link_user_id(url: str) -> int | None:
    m = re.match(r"^tg://user\?id=(\d+)$", url.strip(), re.IGNORECASE)
    return int(m.group(1)) if m else None


def _sort_entities(entities: list[dict]) -> list[dict]:
    return sorted(entities, key=lambda e: (e["offset"], -e["length"]))


def _url_entity(kind: str, offset: int, length: int, url: str) -> dict | None:
    user_id = _link_user_id(url)
    if user_id is not None:
        return {
            "type": "text_mention",
            "offset": offset,
            "length": length,
            "user": {"id": user_id, "is_bot": False, "first_name": f"User {user_id}"},
        }
    checked = _checked_link(url)
    if checked is None:
        return None
    return {"type": kind, "offset": offset, "length": length, "url": checked}


def parse_html(text: str, *, strict: bool = True) -> tuple[str, list[dict]]:
    """Parse Telegram-HTML. Returns (plain text, entities); raises EntityParseError.

    With ``strict=True`` a bare ``&`` (not starting a supported, ``;``-terminated entity)
    is an error; Telegram itself would keep it literally.
    """
    n = len(text)

    def at(k: int) -> str:
        return text[k] if k < n else "\0"

    def bo(k: int) -> int:
        return _byte_offset(text, k)

    def decode_amp(k: int) -> tuple[str, int] | None:
        code, new_pos, semicolon = _decode_html_entity(text, k)
        if code and (semicolon or not strict):
            if 0xD800 <= code <= 0xDFFF:
                raise EntityParseError(
                    "Text contains invalid Unicode characters after decoding HTML entities, "
                    "check for unmatched surrogate code units"
                )
            return chr(code), new_pos
        if strict:
            raise EntityParseError(
                f'Unescaped "&" at byte offset {bo(k)}: only &lt; &gt; &amp; &quot; and '
                "&#NNN; entities are allowed (escape a literal ampersand as &amp;)"
            )
        return None

    out: list[str] = []
    u16 = 0
    entities: list[dict] = []
    stack: list[list] = []  # [tag, argument, utf16 offset, position in out]
    i = 0
    while i < n:
        c = text[i]
        if c == "&":
            decoded = decode_amp(i)
            if decoded is not None:
                ch, i = decoded
                out.append(ch)
                u16 += _u16(ch)
                continue
        if c != "<":
            out.append(c)
            u16 += _u16(c)
            i += 1
            continue

        begin = i
        i += 1
        if at(i) != "/":
            # start tag
            while at(i) not in _SPACES and at(i) != ">":
                i += 1
            if i >= n:
                raise EntityParseError(f"Unclosed start tag at byte offset {bo(begin)}")
            tag = text[begin + 1 : i].lower()
            if tag not in _HTML_TAGS:
                raise EntityParseError(f'Unsupported start tag "{tag}" at byte offset {bo(begin)}')
            argument = ""
            while at(i) != ">":
                while i < n and at(i) in _SPACES:
                    i += 1
                if at(i) == ">":
                    break
                attr_begin = i
                while at(i) not in _SPACES and at(i) not in "=>":
                    i += 1
                attr_name = text[attr_begin:i]
                if not attr_name:
                    raise EntityParseError(f'Empty attribute name in the tag "{tag}" at byte offset {bo(begin)}')
                while i < n and at(i) in _SPACES:
                    i += 1
                if at(i) != "=":
                    if i >= n:
                        raise EntityParseError(f'Unclosed start tag "{tag}" at byte offset {bo(begin)}')
                    if tag == "blockquote" and attr_name == "expandable":
                        argument = "1"
                    continue
                i += 1
                while i < n and at(i) in _SPACES:
                    i += 1
                if i >= n:
                    raise EntityParseError(f'Unclosed start tag "{tag}" at byte offset {bo(begin)}')
                if at(i) not in "'\"":
                    token_begin = i
                    while at(i) in _ASCII_ALNUM or at(i) in ".-":
                        i += 1
                    value = text[token_begin:i].lower()
                    if at(i) not in _SPACES and at(i) != ">":
                        raise EntityParseError(f"Unexpected end of name token at byte offset {bo(token_begin)}")
                else:
                    quote = text[i]
                    i += 1
                    buf: list[str] = []
                    while i < n and text[i] != quote:
                        if text[i] == "&":
                            decoded = decode_amp(i)
                            if decoded is not None:
                                ch, i = decoded
                                buf.append(ch)
                                continue
                        buf.append(text[i])
                        i += 1
                    if i < n:
                        i += 1
                    value = "".join(buf)
                if i >= n:
                    raise EntityParseError(f"Unclosed start tag at byte offset {bo(begin)}")
                if tag == "a" and attr_name == "href":
                    argument = value
                elif tag == "code" and attr_name == "class" and value.startswith("language-"):
                    argument = value[9:]
                elif tag == "span" and attr_name == "class" and value.startswith("tg-"):
                    argument = value[3:]
                elif tag == "tg-emoji" and attr_name == "emoji-id":
                    argument = value
            if tag == "span" and argument != "spoiler":
                raise EntityParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {bo(begin)}')
            stack.append([tag, argument, u16, len(out)])
            i += 1  # skip '>'
            continue

        # end tag
        if not stack:
            raise EntityParseError(f"Unexpected end tag at byte offset {bo(begin)}")
        while at(i) not in _SPACES and at(i) != ">":
            i += 1
        end_tag = text[begin + 2 : i].lower()
        while i < n and at(i) in _SPACES:
            i += 1
        if at(i) != ">":
            raise EntityParseError(f"Unclosed end tag at byte offset {bo(begin)}")
        tag, argument, offset, out_pos = stack[-1]
        if end_tag and end_tag != tag:
            raise EntityParseError(
                f'Unmatched end tag at byte offset {bo(begin)}, expected "</{tag}>", found "</{end_tag}>"'
            )
        if u16 > offset:
            length = u16 - offset
            simple = {
                "i": "italic",
                "em": "italic",
                "b": "bold",
                "strong": "bold",
                "s": "strikethrough",
                "strike": "strikethrough",
                "del": "strikethrough",
                "u": "underline",
                "ins": "underline",
                "tg-spoiler": "spoiler",
                "span": "spoiler",
            }
            if tag in simple:
                entities.append({"type": simple[tag], "offset": offset, "length": length})
            elif tag == "tg-emoji":
                if not re.fullmatch(r"\d+", argument) or int(argument) == 0:
                    raise EntityParseError("Invalid custom emoji identifier specified")
                entities.append(
                    {
                        "type": "custom_emoji",
                        "offset": offset,
                        "length": length,
                        "custom_emoji_id": str(int(argument)),
                    }
                )
            elif tag == "a":
                url = argument or "".join(out[out_pos:])
                entity = _url_entity("text_link", offset, length, url)
                if entity is not None:
                    entities.append(entity)
            elif tag == "pre":
                last = entities[-1] if entities else None
                if (
                    last is not None
                    and last["type"] == "code"
                    and last["offset"] == offset
                    and last["length"] == length
                    and last.get("_language")
                ):
                    last["type"] = "pre"
                    last["language"] = last.pop("_language")
                else:
                    entities.append({"type": "pre", "offset": offset, "length": length})
            elif tag == "code":
                last = entities[-1] if entities else None
                if (
                    last is not None
                    and last["type"] == "pre"
                    and last["offset"] == offset
                    and last["length"] == length
                    and argument
                ):
                    last["language"] = argument
                else:
                    entity = {"type": "code", "offset": offset, "length": length}
                    if argument:
                        entity["_language"] = argument
                    entities.append(entity)
            elif tag == "blockquote":
                kind = "expandable_blockquote" if argument == "1" else "blockquote"
                entities.append({"type": kind, "offset": offset, "length": length})
        stack.pop()
        i += 1
    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    for entity in entities:
        entity.pop("_language", None)
    return "".join(out), _sort_entities(entities)


def parse_markdown_v2(text: str) -> tuple[str, list[dict]]:
    """Parse Telegram MarkdownV2. Returns (plain text, entities); raises EntityParseError."""
    n = len(text)

    def at(k: int) -> str:
        return text[k] if k < n else "\0"

    def bo(k: int) -> int:
        return _byte_offset(text, k)

    def reserved_error(ch: str) -> EntityParseError:
        return EntityParseError(f"Character '{ch}' is reserved and must be escaped with the preceding '\\'")

    out: list[str] = []
    u16 = 0
    entities: list[dict] = []
    stack: list[list] = []  # [type, argument, utf16 offset, source index, position in out]
    have_blockquote = False
    i = 0
    while i < n:
        c = text[i]
        if c == "\\" and 0 < ord(at(i + 1)) <= 126:
            out.append(text[i + 1])
            u16 += 1
            i += 2
            continue
        reserved = "_*[]()~`>#+-=|{}.!\n"
        if stack and stack[-1][0] in ("Code", "Pre", "PreCode"):
            reserved = "`"
        if c not in reserved:
            out.append(c)
            u16 += _u16(c)
            i += 1
            continue

        is_end = False
        if stack:
            top = stack[-1][0]
            if have_blockquote and c == "\n" and (i + 1 == n or text[i + 1] != ">"):
                is_end = True
            elif top == "Bold":
                is_end = c == "*"
            elif top == "Italic":
                is_end = c == "_" and at(i + 1) != "_"
            elif top == "Code":
                is_end = c == "`"
            elif top in ("Pre", "PreCode"):
                is_end = c == "`" and at(i + 1) == "`" and at(i + 2) == "`"
            elif top in ("TextUrl", "CustomEmoji"):
                is_end = c == "]"
            elif top == "Underline":
                is_end = c == "_" and at(i + 1) == "_"
            elif top == "Strikethrough":
                is_end = c == "~"
            elif top == "Spoiler":
                is_end = c == "|" and at(i + 1) == "|"

        if not is_end:
            kind: str | None
            argument = ""
            source_index = i
            if c == "_":
                if at(i + 1) == "_":
                    kind = "Underline"
                    i += 1
                else:
                    kind = "Italic"
            elif c == "*":
                kind = "Bold"
            elif c == "~":
                kind = "Strikethrough"
            elif c == "|":
                if at(i + 1) != "|":
                    raise reserved_error(c)
                i += 1
                kind = "Spoiler"
            elif c == "[":
                kind = "TextUrl"
            elif c == "`":
                if at(i + 1) == "`" and at(i + 2) == "`":
                    i += 3
                    kind = "Pre"
                    language_end = i
                    while at(language_end) not in _SPACES and at(language_end) != "`":
                        language_end += 1
                    if i != language_end and language_end < n and at(language_end) != "`":
                        kind = "PreCode"
                        argument = text[i:language_end]
                        i = language_end
                    if at(i) in "\n\r":
                        if at(i + 1) in "\n\r" and at(i) != at(i + 1):
                            i += 2
                        else:
                            i += 1
                    i -= 1
                else:
                    kind = "Code"
            elif c == "!":
                if at(i + 1) != "[":
                    raise reserved_error(c)
                i += 1
                kind = "CustomEmoji"
            elif c == "\n":
                u16 += 1
                out.append("\n")
                kind = None
                if i + 1 < n and text[i + 1] == ">":
                    i += 1
                    if not have_blockquote:
                        kind = "BlockQuote"
                        have_blockquote = True
            elif c == ">":
                if i != 0:
                    raise reserved_error(c)
                kind = "BlockQuote"
                have_blockquote = True
            else:
                raise reserved_error(c)
            if kind is not None:
                stack.append([kind, argument, u16, source_index, len(out)])
            i += 1
            continue

        # end of an entity
        kind, argument, offset, source_index, out_pos = stack[-1]
        if c == "\n" and kind != "BlockQuote":
            raise EntityParseError(f"Can't find end of {kind} entity at byte offset {bo(source_index)}")
        skip = u16 == offset
        entity: dict | None = None
        if kind in ("Underline", "Spoiler"):
            i += 1
        elif kind in ("Pre", "PreCode"):
            i += 2
        elif kind == "TextUrl":
            if at(i + 1) != "(":
                url = "".join(out[out_pos:])
            else:
                i += 2
                url_begin = i
                buf: list[str] = []
                while i < n and text[i] != ")":
                    if text[i] == "\\" and 0 < ord(at(i + 1)) <= 126:
                        buf.append(text[i + 1])
                        i += 2
                        continue
                    buf.append(text[i])
                    i += 1
                if at(i) != ")":
                    raise EntityParseError(f"Can't find end of a URL at byte offset {bo(url_begin)}")
                url = "".join(buf)
            if not skip:
                entity = _url_entity("text_link", offset, u16 - offset, url)
                skip = entity is None
        elif kind == "CustomEmoji":
            if at(i + 1) != "(":
                raise EntityParseError("Custom emoji entity must contain a tg://emoji URL")
            i += 2
            url_begin = i
            buf = []
            while i < n and text[i] != ")":
                if text[i] == "\\" and 0 < ord(at(i + 1)) <= 126:
                    buf.append(text[i + 1])
                    i += 2
                    continue
                buf.append(text[i])
                i += 1
            if at(i) != ")":
                raise EntityParseError(f"Can't find end of a custom emoji URL at byte offset {bo(url_begin)}")
            m = re.fullmatch(r"tg://emoji\?id=(\d+)", "".join(buf), re.IGNORECASE)
            if not m or int(m.group(1)) == 0:
                raise EntityParseError("Invalid custom emoji identifier specified")
            argument = m.group(1)
        elif kind == "BlockQuote":
            have_blockquote = False
            out.append(text[i])
            u16 += 1
        if not skip:
            if entity is None:
                entity = {"type": _TG_ENTITY_TYPES[kind], "offset": offset, "length": u16 - offset}
                if kind == "PreCode":
                    entity["language"] = argument
                elif kind == "CustomEmoji":
                    entity["custom_emoji_id"] = argument
            entities.append(entity)
        stack.pop()
        i += 1

    if have_blockquote and stack and stack[-1][0] == "BlockQuote":
        offset = stack[-1][2]
        if u16 != offset:
            entities.append({"type": "blockquote", "offset": offset, "length": u16 - offset})
        stack.pop()
    if stack:
        raise EntityParseError(f"Can't find end of {stack[-1][0]} entity at byte offset {bo(stack[-1][3])}")
    return "".join(out), _sort_entities(entities)


def parse_markdown(text: str) -> tuple[str, list[dict]]:
    """Parse legacy Telegram Markdown. Returns (plain text, entities)."""
    n = len(text)

    def at(k: int) -> str:
        return text[k] if k < n else "\0"

    out: list[str] = []
    u16 = 0
    entities: list[dict] = []
    i = 0
    while i < n:
        c = text[i]
        if c == "\\" and at(i + 1) in "_*`[":
            out.append(text[i + 1])
            u16 += 1
            i += 2
            continue
        if c not in "_*`[":
            out.append(c)
            u16 += _u16(c)
            i += 1
            continue
        begin = i
        end_char = "]" if c == "[" else c
        is_pre = False
        language = ""
        i += 1
        if c == "`" and at(i) == "`" and at(i + 1) == "`":
            i += 2
            is_pre = True
            language_end = i
            while at(language_end) not in _SPACES and at(language_end) != "`":
                language_end += 1
            if i != language_end and language_end < n and at(language_end) != "`":
                language = text[i:language_end]
                i = language_end
            if at(i) in "\n\r":
                if at(i + 1) in "\n\r" and at(i) != at(i + 1):
                    i += 2
                else:
                    i += 1
        offset = u16
        content_begin = i
        while i < n and (text[i] != end_char or (is_pre and not (at(i + 1) == "`" and at(i + 2) == "`"))):
            out.append(text[i])
            u16 += _u16(text[i])
            i += 1
        if i >= n:
            raise EntityParseError(f"Can't find end of the entity starting at byte offset {_byte_offset(text, begin)}")
        if offset != u16:
            length = u16 - offset
            if c == "_":
                entities.append({"type": "italic", "offset": offset, "length": length})
            elif c == "*":
                entities.append({"type": "bold", "offset": offset, "length": length})
            elif c == "[":
                if at(i + 1) != "(":
                    url = text[content_begin:i]
                else:
                    i += 2
                    url_begin = i
                    while i < n and text[i] != ")":
                        i += 1
                    url = text[url_begin:i]
                entity = _url_entity("text_link", offset, length, url)
                if entity is not None:
                    entities.append(entity)
            elif is_pre:
                entity = {"type": "pre", "offset": offset, "length": length}
                if language:
                    entity["language"] = language
                entities.append(entity)
            else:
                entities.append({"type": "code", "offset": offset, "length": length})
        if is_pre:
            i += 2
        i += 1
    return "".join(out), _sort_entities(entities)


# --------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------

_UNSET: Any = object()


class FakeBotAPI:
    """In-process fake Telegram Bot API server (aiohttp), one bot per instance.

    Lifecycle: ``async with FakeBotAPI() as api`` (serves on the running loop), or
    ``with FakeBotAPI.running_in_thread() as api`` / ``api.start_in_thread()`` +
    ``api.stop_thread()`` (serves from a private loop in a daemon thread).  All public
    helpers are thread-safe and can be called from any thread.
    """

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_username: str = "corpus_test_bot",
        bot_id: int | None = None,
        bot_first_name: str = "Corpus Test Bot",
        host: str = "127.0.0.1",
        port: int = 0,
        default_user_id: int = 1001,
        default_username: str | None = "test_user",
        default_first_name: str = "Test",
        default_group_id: int = -400000001,
        default_supergroup_id: int = -1001000000001,
        default_channel_id: int = -1001000000002,
        strict_html: bool = True,
        strict_chats: bool = False,
        deliver_webhook_updates: bool = True,
        webhook_retry_delay: float = 0.5,
        supports_inline_queries: bool = True,
        can_join_groups: bool = True,
        can_read_all_group_messages: bool = False,
    ) -> None:
        self.token = token
        prefix = token.split(":", 1)[0]
        self.bot_id = bot_id if bot_id is not None else (int(prefix) if prefix.isdigit() else 1)
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self.host = host
        self.port = port
        self.default_user_id = default_user_id
        self.default_username = default_username
        self.default_first_name = default_first_name
        self.default_group_id = default_group_id
        self.default_supergroup_id = default_supergroup_id
        self.default_channel_id = default_channel_id
        self.strict_html = strict_html
        self.strict_chats = strict_chats
        self.deliver_webhook_updates = deliver_webhook_updates
        self.webhook_retry_delay = webhook_retry_delay
        self.supports_inline_queries = supports_inline_queries
        self.can_join_groups = can_join_groups
        self.can_read_all_group_messages = can_read_all_group_messages

        self._methods = {m.lower(): m for m in _KNOWN_METHODS}
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._thread_loop: asyncio.AbstractEventLoop | None = None
        self._closing = False
        self._update_waiters: set[asyncio.Future] = set()
        self._async_call_waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future]] = []
        self._webhook_task: asyncio.Task | None = None
        self._active_poll: dict | None = None
        self._reset_state()

    # ------------------------------------------------------------------ state

    def _reset_state(self) -> None:
        with self._lock:
            self.calls: list[Call] = []
            self._claimed: set[int] = set()
            self._updates: list[dict] = []
            self._update_ids = itertools.count(1)
            self._message_ids: dict[int, itertools.count] = {}
            self._messages: dict[tuple[int, int], dict] = {}
            self._chats: dict[int, dict] = {}
            self._users: dict[int, dict] = {}
            self._files: dict[str, dict] = {}
            self._file_paths: dict[str, str] = {}
            self._file_seq = itertools.count(1)
            self._query_seq = itertools.count(1)
            self._callback_queries: dict[str, dict] = {}
            self._inline_queries: dict[str, dict] = {}
            self._failures: list[dict] = []
            self._delays: list[dict] = []
            self._in_flight: dict[str, int] = {}
            self.max_in_flight: dict[str, int] = {}
            self._commands: dict[str, list[dict]] = {}
            self._bot_texts: dict[str, str] = {}
            self._allowed_updates: frozenset[str] = _DEFAULT_ALLOWED_UPDATES
            self._webhook: dict = {}
            self._webhook_generation = 0
            self.webhook_deliveries: list[tuple[int, int | None]] = []
            self.file_downloads: list[str] = []
            self.blocked_users: set[int] = set()

    def reset(self) -> None:
        """Forget everything (calls, updates, messages, files, failures, webhook)."""
        self._reset_state()

    @property
    def bot_user(self) -> dict:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    @property
    def url(self) -> str:
        """Root URL, e.g. ``http://127.0.0.1:54321``."""
        if self._sock is None:
            raise RuntimeError("FakeBotAPI is not started")
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """Value for ``ApplicationBuilder.base_url`` / ``Bot(base_url=...)``."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """Value for ``ApplicationBuilder.base_file_url`` / ``Bot(base_file_url=...)``."""
        return f"{self.url}/file/bot"

    def make_bot(self, token: str | None = None, **kwargs: Any):
        """A ``telegram.Bot`` pointed at this server (not yet initialised)."""
        import telegram

        return telegram.Bot(
            token or self.token,
            base_url=self.base_url,
            base_file_url=self.base_file_url,
            **kwargs,
        )

    def application_builder(self, token: str | None = None):
        """A ``telegram.ext.ApplicationBuilder`` with token/base_url/base_file_url set."""
        from telegram.ext import ApplicationBuilder

        return ApplicationBuilder().token(token or self.token).base_url(self.base_url).base_file_url(self.base_file_url)

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> FakeBotAPI:
        if self._runner is not None:
            return self
        self._loop = asyncio.get_running_loop()
        self._closing = False
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(
            app,
            handle_signals=False,
            access_log=None,
            shutdown_timeout=1.0,
            handler_cancellation=True,
        )
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        sock.listen(128)
        sock.setblocking(False)
        self._sock = sock
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()
        with self._lock:
            if self._webhook.get("url"):
                self._start_webhook_delivery()
        _LOG.debug("FakeBotAPI listening on %s", self.url)
        return self

    async def stop(self) -> None:
        if self._runner is None:
            return
        self._closing = True
        self._wake_update_waiters()
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            with contextlib.suppress(BaseException):
                await self._webhook_task
            self._webhook_task = None
        await self._runner.cleanup()
        self._runner = None
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.close()
        self._loop = None

    async def __aenter__(self) -> FakeBotAPI:
        return await self.start()

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.stop()

    def start_in_thread(self, timeout: float = 10.0) -> FakeBotAPI:
        """Serve from a private event loop in a daemon thread; returns when listening."""
        if self._thread is not None:
            return self
        ready = threading.Event()
        errors: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            self._thread_loop = loop
            try:
                loop.run_until_complete(self.start())
            except BaseException as exc:  # pragma: no cover - startup failure
                errors.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                with contextlib.suppress(BaseException):
                    loop.run_until_complete(self.stop())
                pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
                for task in pending:
                    task.cancel()
                if pending:
                    loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
                loop.close()

        self._thread = threading.Thread(target=run, name="FakeBotAPI", daemon=True)
        self._thread.start()
        if not ready.wait(timeout):
            raise RuntimeError("FakeBotAPI thread did not start in time")
        if errors:
            self._thread = None
            raise errors[0]
        return self

    def stop_thread(self, timeout: float = 10.0) -> None:
        thread, loop = self._thread, self._thread_loop
        if thread is None or loop is None:
            return
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self.stop(), loop).result(timeout)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
        self._thread = None
        self._thread_loop = None

    @classmethod
    @contextlib.contextmanager
    def running_in_thread(cls, **kwargs: Any) -> Iterator[FakeBotAPI]:
        """``with FakeBotAPI.running_in_thread(**ctor_kwargs) as api: ...``"""
        api = cls(**kwargs)
        api.start_in_thread()
        try:
            yield api
        finally:
            api.stop_thread()

    # ------------------------------------------------------------------ notification

    def _wake_update_waiters(self) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return

        def wake() -> None:
            for fut in list(self._update_waiters):
                if not fut.done():
                    fut.set_result(None)

        try:
            if _running_loop() is loop:
                wake()
            else:
                loop.call_soon_threadsafe(wake)
        except RuntimeError:  # loop closed concurrently
            pass

    async def _wait_update_signal(self, timeout: float) -> None:
        assert self._loop is not None
        fut = self._loop.create_future()
        self._update_waiters.add(fut)
        try:
            await asyncio.wait_for(fut, timeout)
        except TimeoutError:
            pass
        finally:
            self._update_waiters.discard(fut)

    def _notify_call_waiters(self) -> None:
        # called with self._lock held
        self._cond.notify_all()
        for loop, fut in list(self._async_call_waiters):
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_resolve_future, fut)

    # ------------------------------------------------------------------ failure injection

    def fail_next(
        self,
        method: str | None,
        code: int = 429,
        retry_after: int | float = 2,
        times: int = 1,
        description: str | None = None,
        parameters: dict | None = None,
        *,
        chat_id: int | str | None = None,
        body: str | None = None,
    ) -> None:
        """Make the next ``times`` calls of ``method`` (None = any method) fail.

        429 -> ``Too Many Requests: retry after N`` with ``parameters.retry_after`` (PTB
        raises RetryAfter); 400 -> BadRequest; 401/404 -> InvalidToken; 403 -> Forbidden;
        409 -> Conflict; 5xx -> NetworkError.  ``chat_id``: only calls to that chat.
        ``method="file"``: file downloads (``{api.url}/file/bot<token>/<path>``).
        ``body``: answer with this raw (e.g. HTML) body instead of Telegram's JSON, as a
        proxy in front of the Bot API does.
        """
        if description is None:
            description = {
                429: f"Too Many Requests: retry after {retry_after:g}",
                400: "Bad Request: injected failure",
                401: "Unauthorized",
                403: "Forbidden: bot was blocked by the user",
                404: "Not Found",
                409: "Conflict: terminated by other getUpdates request; make sure that only "
                "one bot instance is running",
                500: "Internal Server Error",
                502: "Bad Gateway",
            }.get(code, f"Error {code}")
        if parameters is None and code == 429:
            parameters = {"retry_after": retry_after}
        self._add_rule(
            self._failures,
            method,
            times,
            chat_id,
            kind="fail",
            error=ApiError(code, description, parameters),
            body=body,
        )

    def reset_next(self, method: str | None, times: int = 1, *, chat_id: int | str | None = None) -> None:
        """Drop the connection of the next ``times`` calls without any response (a reset).

        The call is not carried out (nothing is sent) and is recorded with status 0.
        """
        self._add_rule(self._failures, method, times, chat_id, kind="reset")

    def delay_next(
        self,
        method: str | None,
        seconds: float,
        times: int = 1,
        *,
        chat_id: int | str | None = None,
        after: bool = False,
    ) -> None:
        """Delay the response of the next ``times`` calls of ``method`` by ``seconds``.

        ``after=False``: wait, then carry the call out.  ``after=True``: carry it out (the
        message is sent, the call recorded) and only then wait before answering -- a slow
        Bot API as a client sees it: give up and send again, and the user gets it twice.
        """
        self._add_rule(self._delays, method, times, chat_id, seconds=seconds, after=after)

    def _add_rule(
        self, rules: list[dict], method: str | None, times: int, chat_id: int | str | None, **rule: Any
    ) -> None:
        canonical = self._canonical(method) if method else None
        with self._lock:
            rules.append(
                {
                    "method": canonical or (method if method else None),
                    "remaining": times,
                    "chat_id": None if chat_id is None else str(chat_id),
                    **rule,
                }
            )

    def clear_failures(self) -> None:
        with self._lock:
            self._failures.clear()
            self._delays.clear()

    def _take_rule(self, rules: list[dict], method: str, params: dict | None = None) -> dict | None:
        chat = None if not params or params.get("chat_id") is None else str(params["chat_id"])
        with self._lock:
            for rule in rules:
                if rule["remaining"] > 0 and rule["method"] in (None, method) and rule.get("chat_id") in (None, chat):
                    rule["remaining"] -= 1
                    if rule["remaining"] <= 0:
                        rules.remove(rule)
                    return rule
        return None

    def block_user(self, user_id: int, blocked: bool = True) -> None:
        """Sending to this user's private chat then fails with 403 Forbidden."""
        with self._lock:
            if blocked:
                self.blocked_users.add(user_id)
            else:
                self.blocked_users.discard(user_id)

    # ------------------------------------------------------------------ call inspection

    def in_flight(self, method: str) -> int:
        """Requests of ``method`` being served right now (delayed ones included)."""
        canonical = self._canonical(method) or method
        with self._lock:
            return self._in_flight.get(canonical, 0)

    def calls_of(self, method: str, *, ok: bool | None = None) -> list[Call]:
        canonical = self._canonical(method) or method
        with self._lock:
            return [c for c in self.calls if c.method == canonical and (ok is None or c.ok == ok)]

    def sent_messages(self, chat_id: int | str | None = None, *, raw: bool = False) -> list[str]:
        """Texts of messages the bot sent successfully via sendMessage, in order.

        ``raw=False`` gives the text as the user sees it (markup parsed away);
        ``raw=True`` gives the ``text`` parameter as sent by the bot.
        """
        wanted = _int_or_none(chat_id)
        texts = []
        for call in self.calls_of("sendMessage", ok=True):
            msg = call.result
            if chat_id is not None and msg["chat"]["id"] != wanted and str(call.params.get("chat_id")) != str(chat_id):
                continue
            texts.append(str(call.params.get("text")) if raw else msg.get("text", ""))
        return texts

    def bot_messages(self, chat_id: int | None = None) -> list[dict]:
        """Current state (after edits, excluding deleted) of messages sent by the bot."""
        with self._lock:
            msgs = [
                copy.deepcopy(m)
                for (cid, _), m in sorted(self._messages.items())
                if m.get("from", {}).get("id") == self.bot_id and (chat_id is None or cid == chat_id)
            ]
        return msgs

    def get_message(self, chat_id: int, message_id: int) -> dict | None:
        with self._lock:
            msg = self._messages.get((int(chat_id), int(message_id)))
            return copy.deepcopy(msg) if msg else None

    def _find_call(self, methods, predicate, since, ok) -> Call | None:
        for call in self.calls[since or 0 :]:
            if call.index in self._claimed or call.method not in methods:
                continue
            if ok is not None and call.ok != ok:
                continue
            if predicate is not None:
                try:
                    if not predicate(call.params):
                        continue
                except Exception:  # a predicate that blows up just doesn't match
                    continue
            self._claimed.add(call.index)
            return call
        return None

    def _methods_set(self, method: str | Iterable[str]) -> set[str]:
        names = [method] if isinstance(method, str) else list(method)
        return {self._canonical(m) or m for m in names}

    def _timeout_message(self, methods: set[str], timeout: float) -> str:
        recent = [c for c in self.calls if c.method != "getUpdates"][-15:]
        lines = "\n".join(f"  {c!r}" for c in recent) or "  (none)"
        return (
            f"no unclaimed call of {sorted(methods)} matching the predicate within {timeout}s; recent calls:\n{lines}"
        )

    async def wait_for(
        self,
        method: str | Iterable[str],
        predicate: Callable[[dict], bool] | None = None,
        timeout: float = WAIT_SECONDS,
        *,
        since: int | None = None,
        ok: bool | None = None,
    ) -> Call:
        """Wait for (and claim) the first call of ``method`` matching ``predicate(params)``.

        Each call is returned by ``wait_for`` at most once, so successive waits return
        successive replies.  Calls made before ``wait_for`` was entered count too (use
        ``since=len(api.calls)`` to ignore them).  ``ok=True/False`` filters on success.
        Works from any event loop/thread.  Raises ``TimeoutError`` listing recent calls.
        """
        methods = self._methods_set(method)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            with self._lock:
                call = self._find_call(methods, predicate, since, ok)
                if call is not None:
                    return call
                remaining = deadline - loop.time()
                if remaining <= 0:
                    raise TimeoutError(self._timeout_message(methods, timeout))
                fut = loop.create_future()
                waiter = (loop, fut)
                self._async_call_waiters.append(waiter)
            try:
                await asyncio.wait_for(fut, remaining)
            except TimeoutError:
                pass
            finally:
                with self._lock:
                    with contextlib.suppress(ValueError):
                        self._async_call_waiters.remove(waiter)

    def wait_for_sync(
        self,
        method: str | Iterable[str],
        predicate: Callable[[dict], bool] | None = None,
        timeout: float = WAIT_SECONDS,
        *,
        since: int | None = None,
        ok: bool | None = None,
    ) -> Call:
        """Blocking variant of :meth:`wait_for` (for thread mode / sync tests)."""
        methods = self._methods_set(method)
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                call = self._find_call(methods, predicate, since, ok)
                if call is not None:
                    return call
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(self._timeout_message(methods, timeout))
                self._cond.wait(remaining)

    # ------------------------------------------------------------------ files

    def add_file(
        self,
        content: bytes,
        file_name: str | None = None,
        *,
        mime_type: str | None = None,
        kind: str = "documents",
        file_id: str | None = None,
    ) -> str:
        """Register downloadable content; returns its ``file_id`` (for getFile)."""
        with self._lock:
            seq = next(self._file_seq)
            digest = hashlib.sha1(content + str(seq).encode()).hexdigest()
            file_id = file_id or f"FAKE{kind[:3].upper()}{seq:06d}{digest[:20]}"
            ext = ""
            if file_name and "." in file_name:
                ext = "." + file_name.rsplit(".", 1)[1]
            path = f"{kind}/file_{seq}{ext}"
            self._files[file_id] = {
                "file_id": file_id,
                "file_unique_id": f"U{digest[:15]}",
                "file_size": len(content),
                "file_path": path,
                "file_name": file_name,
                "mime_type": mime_type or _guess_mime(file_name),
                "content": bytes(content),
            }
            self._file_paths[path] = file_id
            return file_id

    def get_file_content(self, file_id: str) -> bytes:
        with self._lock:
            return self._files[file_id]["content"]

    def _file_info(self, file_id: str) -> dict:
        info = self._files.get(file_id)
        if info is None:
            raise _bad("wrong file identifier/HTTP URL specified")
        return info

    # ------------------------------------------------------------------ chats / users

    def _user(
        self,
        user_id: int | None,
        username: Any = _UNSET,
        first_name: str | None = None,
        last_name: str | None = None,
        language_code: str | None = "en",
    ) -> dict:
        with self._lock:
            uid = self.default_user_id if user_id is None else int(user_id)
            existing = self._users.get(uid)
            if existing is not None and username is _UNSET and first_name is None:
                return dict(existing)
            if username is _UNSET:
                username = (existing or {}).get("username") or (
                    self.default_username if uid == self.default_user_id else f"user{uid}"
                )
            user = {
                "id": uid,
                "is_bot": False,
                "first_name": first_name
                or (existing or {}).get("first_name")
                or (self.default_first_name if uid == self.default_user_id else f"User{uid}"),
            }
            if last_name:
                user["last_name"] = last_name
            if username:
                user["username"] = username
            if language_code:
                user["language_code"] = language_code
            self._users[uid] = user
            return dict(user)

    def _chat_for(self, chat_type: str, chat_id: int | None, user: dict, title: str | None) -> dict:
        with self._lock:
            if chat_type == "private":
                cid = user["id"] if chat_id is None else int(chat_id)
                chat = {"id": cid, "type": "private", "first_name": user["first_name"]}
                if user.get("last_name"):
                    chat["last_name"] = user["last_name"]
                if user.get("username"):
                    chat["username"] = user["username"]
            else:
                if chat_type not in ("group", "supergroup", "channel"):
                    raise ValueError(f"unknown chat_type {chat_type!r}")
                default = {
                    "group": self.default_group_id,
                    "supergroup": self.default_supergroup_id,
                    "channel": self.default_channel_id,
                }[chat_type]
                cid = default if chat_id is None else int(chat_id)
                known = self._chats.get(cid)
                chat = {
                    "id": cid,
                    "type": chat_type,
                    "title": title
                    or (known or {}).get("title")
                    or {"group": "Test Group", "supergroup": "Test Supergroup", "channel": "Test Channel"}[chat_type],
                }
            self._chats[cid] = chat
            return dict(chat)

    def _resolve_chat(self, chat_id: Any) -> dict:
        if chat_id is None or chat_id == "":
            raise _bad("chat_id is empty")
        with self._lock:
            if isinstance(chat_id, str) and chat_id.startswith("@"):
                for chat in self._chats.values():
                    if chat.get("username", "").lower() == chat_id[1:].lower():
                        return dict(chat)
                raise _bad("chat not found")
            cid = _int_or_none(chat_id)
            if cid is None or cid == 0:
                raise _bad("chat not found")
            if cid in self._chats:
                return dict(self._chats[cid])
            if self.strict_chats:
                raise _bad("chat not found")
            if cid > 0:
                chat = {"id": cid, "type": "private", "first_name": f"User{cid}"}
            elif str(cid).startswith("-100"):
                chat = {"id": cid, "type": "supergroup", "title": f"Chat {cid}"}
            else:
                chat = {"id": cid, "type": "group", "title": f"Chat {cid}"}
            self._chats[cid] = chat
            return dict(chat)

    def _next_message_id(self, chat_id: int) -> int:
        with self._lock:
            counter = self._message_ids.setdefault(chat_id, itertools.count(1))
            return next(counter)

    def _store_message(self, msg: dict) -> None:
        with self._lock:
            self._messages[(msg["chat"]["id"], msg["message_id"])] = copy.deepcopy(msg)

    # ------------------------------------------------------------------ update builders

    def push_update(self, update: Mapping[str, Any], *, enqueue: bool = True) -> dict:
        """Queue a raw update (``update_id`` is assigned if missing). Returns it."""
        upd = copy.deepcopy(dict(update))
        with self._lock:
            if "update_id" not in upd:
                upd["update_id"] = next(self._update_ids)
            if enqueue:
                self._updates.append(upd)
        if enqueue:
            self._wake_update_waiters()
        return upd

    def _build_message(
        self,
        content: dict,
        *,
        user_id: int | None = None,
        username: Any = _UNSET,
        first_name: str | None = None,
        last_name: str | None = None,
        language_code: str | None = "en",
        chat_id: int | None = None,
        chat_type: str = "private",
        chat_title: str | None = None,
        reply_to_message: dict | int | None = None,
        date: int | None = None,
    ) -> dict:
        user = self._user(user_id, username, first_name, last_name, language_code)
        chat = self._chat_for(chat_type, chat_id, user, chat_title)
        msg: dict[str, Any] = {
            "message_id": self._next_message_id(chat["id"]),
            "date": int(date if date is not None else time.time()),
            "chat": chat,
        }
        if chat_type == "channel":
            msg["sender_chat"] = chat
        else:
            msg["from"] = user
        if reply_to_message is not None:
            if isinstance(reply_to_message, int):
                replied = self.get_message(chat["id"], reply_to_message)
                if replied is None:
                    raise ValueError(f"no message {reply_to_message} in chat {chat['id']}")
            else:
                replied = copy.deepcopy(dict(reply_to_message))
            replied.pop("reply_to_message", None)
            msg["reply_to_message"] = replied
        msg.update(content)
        self._store_message(msg)
        return msg

    def _message_update(self, msg: dict, enqueue: bool, edited: bool = False) -> dict:
        channel = msg["chat"]["type"] == "channel"
        key = ("edited_" if edited else "") + ("channel_post" if channel else "message")
        return self.push_update({key: msg}, enqueue=enqueue)

    def push_message(
        self,
        text: str,
        chat_id: int | None = None,
        user_id: int | None = None,
        chat_type: str = "private",
        username: Any = _UNSET,
        entities: list[dict] | None = None,
        reply_to_message: dict | int | None = None,
        *,
        first_name: str | None = None,
        last_name: str | None = None,
        language_code: str | None = "en",
        chat_title: str | None = None,
        date: int | None = None,
        enqueue: bool = True,
    ) -> dict:
        """Queue a text message from a user. Returns the Update dict.

        Private chat by default (chat id == user id).  For ``chat_type`` "group" /
        "supergroup" / "channel" the chat id defaults to a negative id.  When ``entities``
        is None a leading ``/command`` gets a bot_command entity, like Telegram does.
        """
        content: dict[str, Any] = {"text": text}
        if entities is None:
            entities = _auto_entities(text)
        if entities:
            content["entities"] = entities
        msg = self._build_message(
            content,
            user_id=user_id,
            username=username,
            first_name=first_name,
            last_name=last_name,
            language_code=language_code,
            chat_id=chat_id,
            chat_type=chat_type,
            chat_title=chat_title,
            reply_to_message=reply_to_message,
            date=date,
        )
        return self._message_update(msg, enqueue)

    def push_command(
        self,
        command: str,
        chat_id: int | None = None,
        user_id: int | None = None,
        chat_type: str = "private",
        **kwargs: Any,
    ) -> dict:
        """Queue ``"/cmd args"`` (leading slash optional) with a bot_command entity."""
        if not command.startswith("/"):
            command = "/" + command
        head = command.split(None, 1)[0]
        entities = [{"type": "bot_command", "offset": 0, "length": utf16_len(head)}]
        return self.push_message(
            command, chat_id=chat_id, user_id=user_id, chat_type=chat_type, entities=entities, **kwargs
        )

    def push_edited_message(self, chat_id: int, message_id: int, text: str, *, enqueue: bool = True) -> dict:
        """Queue an ``edited_message`` update for an earlier user message."""
        with self._lock:
            msg = self._messages.get((int(chat_id), int(message_id)))
            if msg is None:
                raise ValueError(f"no message {message_id} in chat {chat_id}")
            msg["text"] = text
            msg["edit_date"] = int(time.time())
            ents = _auto_entities(text)
            if ents:
                msg["entities"] = ents
            else:
                msg.pop("entities", None)
            msg = copy.deepcopy(msg)
        return self._message_update(msg, enqueue, edited=True)

    def push_callback_query(
        self,
        data: str | None,
        message: dict | int | None = None,
        user_id: int | None = None,
        *,
        chat_id: int | None = None,
        inline_message_id: str | None = None,
        username: Any = _UNSET,
        game_short_name: str | None = None,
        enqueue: bool = True,
    ) -> dict:
        """Queue a callback query (a button press).

        ``message``: a Message dict, or a message_id in ``chat_id`` (default: the user's
        private chat), or None = the bot's latest message in that chat (a placeholder bot
        message is created if there is none).  Returns the Update dict; the query id is
        ``update["callback_query"]["id"]``.
        """
        user = self._user(user_id, username)
        query_id = f"{next(self._query_seq)}{abs(hash(time.time())) % 10**9:09d}"
        cq: dict[str, Any] = {
            "id": query_id,
            "from": user,
            "chat_instance": f"-{abs(hash((user['id'], chat_id))) % 10**18}",
        }
        if data is not None:
            cq["data"] = data
        if game_short_name is not None:
            cq["game_short_name"] = game_short_name
        if inline_message_id is not None:
            cq["inline_message_id"] = inline_message_id
        else:
            cid = user["id"] if chat_id is None else int(chat_id)
            if isinstance(message, int):
                msg = self.get_message(cid, message)
                if msg is None:
                    raise ValueError(f"no message {message} in chat {cid}")
            elif message is None:
                own = self.bot_messages(cid)
                if own:
                    msg = own[-1]
                else:
                    chat = self._chat_for("private", cid, user, None) if cid > 0 else self._resolve_chat(cid)
                    msg = {
                        "message_id": self._next_message_id(cid),
                        "date": int(time.time()),
                        "chat": chat,
                        "from": self.bot_user,
                        "text": "(placeholder bot message)",
                    }
                    self._store_message(msg)
            else:
                msg = copy.deepcopy(dict(message))
                if self.get_message(msg["chat"]["id"], msg["message_id"]) is None:
                    self._store_message(msg)
            cq["message"] = msg
        with self._lock:
            self._callback_queries[query_id] = cq
        return self.push_update({"callback_query": cq}, enqueue=enqueue)

    def push_inline_query(
        self,
        query: str,
        offset: str = "",
        user_id: int | None = None,
        *,
        chat_type: str | None = "sender",
        username: Any = _UNSET,
        enqueue: bool = True,
    ) -> dict:
        """Queue an inline query; its id is ``update["inline_query"]["id"]``."""
        user = self._user(user_id, username)
        query_id = f"{next(self._query_seq)}{abs(hash(time.time())) % 10**9:09d}"
        iq: dict[str, Any] = {"id": query_id, "from": user, "query": query, "offset": offset}
        if chat_type:
            iq["chat_type"] = chat_type
        with self._lock:
            self._inline_queries[query_id] = iq
        return self.push_update({"inline_query": iq}, enqueue=enqueue)

    def push_document(
        self,
        file_name: str,
        content_bytes: bytes,
        user_id: int | None = None,
        caption: str | None = None,
        *,
        mime_type: str | None = None,
        caption_entities: list[dict] | None = None,
        **kwargs: Any,
    ) -> dict:
        """Queue a message with a document (downloadable via getFile)."""
        file_id = self.add_file(content_bytes, file_name, mime_type=mime_type, kind="documents")
        info = self._files[file_id]
        doc = {
            "file_id": file_id,
            "file_unique_id": info["file_unique_id"],
            "file_name": file_name,
            "mime_type": info["mime_type"],
            "file_size": len(content_bytes),
        }
        content = _caption_content({"document": doc}, caption, caption_entities)
        return self._push_media(content, user_id=user_id, **kwargs)

    def push_photo(
        self,
        content_bytes: bytes = b"\xff\xd8\xff\xe0fake-jpeg",
        user_id: int | None = None,
        caption: str | None = None,
        *,
        width: int = 1280,
        height: int = 720,
        caption_entities: list[dict] | None = None,
        **kwargs: Any,
    ) -> dict:
        """Queue a photo message (two PhotoSize entries; the largest is last)."""
        sizes = []
        for scale, kind in ((0.25, "thumb"), (1.0, "full")):
            file_id = self.add_file(content_bytes, f"{kind}.jpg", mime_type="image/jpeg", kind="photos")
            info = self._files[file_id]
            sizes.append(
                {
                    "file_id": file_id,
                    "file_unique_id": info["file_unique_id"],
                    "width": max(1, int(width * scale)),
                    "height": max(1, int(height * scale)),
                    "file_size": len(content_bytes),
                }
            )
        content = _caption_content({"photo": sizes}, caption, caption_entities)
        return self._push_media(content, user_id=user_id, **kwargs)

    def push_sticker(
        self,
        emoji: str = "\U0001f44d",
        user_id: int | None = None,
        *,
        content_bytes: bytes = b"RIFFfake-webp",
        set_name: str | None = None,
        sticker_type: str = "regular",
        is_animated: bool = False,
        is_video: bool = False,
        **kwargs: Any,
    ) -> dict:
        """Queue a sticker message."""
        file_id = self.add_file(content_bytes, "sticker.webp", mime_type="image/webp", kind="stickers")
        sticker = {
            "file_id": file_id,
            "file_unique_id": self._files[file_id]["file_unique_id"],
            "width": 512,
            "height": 512,
            "is_animated": is_animated,
            "is_video": is_video,
            "type": sticker_type,
            "emoji": emoji,
            "file_size": len(content_bytes),
        }
        if set_name:
            sticker["set_name"] = set_name
        return self._push_media({"sticker": sticker}, user_id=user_id, **kwargs)

    def _push_media(self, content: dict, *, user_id: int | None = None, enqueue: bool = True, **kwargs: Any) -> dict:
        msg = self._build_message(content, user_id=user_id, **kwargs)
        return self._message_update(msg, enqueue)

    def pending_updates(self) -> list[dict]:
        with self._lock:
            return copy.deepcopy(self._updates)

    # ------------------------------------------------------------------ webhook helpers

    async def post_update_to_webhook(
        self,
        url: str | None,
        update: Any,
        secret: str | None = _UNSET,
        *,
        timeout: float = 10.0,
    ) -> int:
        """POST one update (dict or ``telegram.Update``) like Telegram does; returns status.

        ``url=None`` uses the URL registered by setWebhook; ``secret`` defaults to the
        registered secret_token (pass None to send no secret header).
        """
        with self._lock:
            if url is None:
                url = self._webhook.get("url")
                if not url:
                    raise RuntimeError("no webhook registered")
            if secret is _UNSET:
                secret = self._webhook.get("secret_token")
        if hasattr(update, "to_dict"):
            update = update.to_dict()
        async with aiohttp.ClientSession() as session:
            return await _post_json(session, url, update, secret, timeout)

    def _start_webhook_delivery(self) -> None:
        # lock held; must run on (or be scheduled onto) the server loop
        self._webhook_generation += 1
        generation = self._webhook_generation
        loop = self._loop
        if loop is None or not self.deliver_webhook_updates:
            return

        def start() -> None:
            if self._webhook_task is not None:
                self._webhook_task.cancel()
            self._webhook_task = loop.create_task(self._webhook_loop(generation))

        if _running_loop() is loop:
            start()
        else:
            loop.call_soon_threadsafe(start)

    async def _webhook_loop(self, generation: int) -> None:
        async with aiohttp.ClientSession() as session:
            while not self._closing and generation == self._webhook_generation:
                with self._lock:
                    url = self._webhook.get("url")
                    secret = self._webhook.get("secret_token")
                    update = self._next_deliverable(None)
                if not url:
                    return
                if update is None:
                    await self._wait_update_signal(1.0)
                    continue
                error: str | None = None
                status: int | None = None
                try:
                    status = await _post_json(session, url, update, secret, 10.0)
                except Exception as exc:  # connection refused, timeout, ...
                    error = f"Connection error: {exc!r}"
                with self._lock:
                    self.webhook_deliveries.append((update["update_id"], status))
                    if status is not None and 200 <= status < 300:
                        self._updates = [u for u in self._updates if u["update_id"] != update["update_id"]]
                        continue
                    self._webhook["last_error_date"] = int(time.time())
                    self._webhook["last_error_message"] = error or f"Wrong response from the webhook: {status}"
                await asyncio.sleep(self.webhook_retry_delay)

    def _next_deliverable(self, allowed: frozenset[str] | None) -> dict | None:
        allowed = allowed or self._allowed_updates
        kept = []
        for upd in self._updates:
            kind = next((k for k in upd if k != "update_id"), None)
            if kind in allowed:
                kept.append(upd)
        self._updates = kept
        return copy.deepcopy(kept[0]) if kept else None

    # ------------------------------------------------------------------ HTTP plumbing

    def _canonical(self, method: str | None) -> str | None:
        if not method:
            return None
        return self._methods.get(method.lower())

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        m = re.match(r"^/bot([^/]+)/([A-Za-z0-9_]*)/?$", path)
        if m:
            try:
                return await self._handle_api(request, m.group(1), m.group(2))
            except _ConnectionDropped:
                return web.Response(status=204)  # never reaches the client: the socket is gone
        m = re.match(r"^/file/bot([^/]+)/(.+)$", path)
        if m:
            return self._handle_file(m.group(1), m.group(2))
        return _json_response(ApiError(404, "Not Found").payload(), 404)

    def _handle_file(self, token: str, file_path: str) -> web.StreamResponse:
        if token != self.token:
            return _json_response(ApiError(401, "Unauthorized").payload(), 401)
        with self._lock:
            self.file_downloads.append(file_path)
            file_id = self._file_paths.get(file_path)
            info = self._files.get(file_id) if file_id else None
        if info is None:
            return _json_response(ApiError(404, "Not Found").payload(), 404)
        failure = self._take_rule(self._failures, "file")
        if failure and failure["kind"] == "fail":
            return _json_response(failure["error"].payload(), failure["error"].code)
        return web.Response(
            body=info["content"],
            content_type=info["mime_type"] or "application/octet-stream",
        )

    async def _read_params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = {k: v for k, v in request.query.items()}
        if request.method in ("POST", "PUT") and request.can_read_body:
            ctype = request.content_type
            if ctype == "application/json":
                try:
                    body = await request.json()
                except ValueError as exc:
                    raise _bad("can't parse JSON object") from exc
                if not isinstance(body, dict):
                    raise _bad("JSON object expected")
                params.update(body)
            elif ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
                form = await request.post()
                for key, value in form.items():
                    if isinstance(value, web.FileField):
                        params[key] = UploadedFile(
                            field=key,
                            filename=value.filename,
                            content_type=value.content_type,
                            data=value.file.read(),
                        )
                    else:
                        params[key] = value
            else:
                raw = await request.read()
                if raw.strip():
                    try:
                        body = json.loads(raw)
                    except ValueError:
                        body = None
                    if isinstance(body, dict):
                        params.update(body)
        return {k: _coerce(k, v) for k, v in params.items()}

    async def _handle_api(self, request: web.Request, token: str, method_name: str) -> web.StreamResponse:
        method = self._canonical(method_name) or method_name
        with self._lock:
            self._in_flight[method] = self._in_flight.get(method, 0) + 1
            self.max_in_flight[method] = max(self.max_in_flight.get(method, 0), self._in_flight[method])
        try:
            return await self._handle_api_call(request, token, method_name, method)
        finally:
            with self._lock:
                self._in_flight[method] -= 1

    async def _handle_api_call(
        self, request: web.Request, token: str, method_name: str, method: str
    ) -> web.StreamResponse:
        started = time.time()
        params: dict[str, Any] = {}
        delay: dict | None = None
        try:
            if token != self.token:
                raise ApiError(401, "Unauthorized")
            if method_name.lower() not in self._methods:
                raise ApiError(404, "Not Found")
            params = await self._read_params(request)
            delay = self._take_rule(self._delays, method, params)
            if delay and not delay["after"]:
                await asyncio.sleep(delay["seconds"])
                delay = None
            failure = self._take_rule(self._failures, method, params)
            if failure and failure["kind"] == "reset":
                self._record(
                    method, params, 0, {"ok": False, "description": "connection reset"}, request.content_type, started
                )
                _abort(request)
                raise _ConnectionDropped
            if failure:
                if failure.get("body") is not None:
                    err = failure["error"]
                    self._record(method, params, err.code, err.payload(), request.content_type, started)
                    return web.Response(text=failure["body"], status=err.code, content_type="text/html")
                raise failure["error"]
            handler = getattr(self, f"_api_{method}", None)
            if handler is None:
                handler = self._generic_handler(method)
            result = handler(params)
            if asyncio.iscoroutine(result):
                result = await result
            payload: dict[str, Any] = {"ok": True, "result": result}
            status = 200
        except ApiError as err:
            payload, status = err.payload(), err.code
        except (asyncio.CancelledError, _ConnectionDropped):
            raise
        except Exception as exc:  # bug in the fake or a badly typed parameter
            _LOG.exception("FakeBotAPI: error handling %s", method)
            payload = ApiError(400, f"Bad Request: {type(exc).__name__}: {exc}").payload()
            status = 400
        if delay:  # carried out and recorded; the client hears of it only later
            self._record(method, params, status, payload, request.content_type, started)
            await asyncio.sleep(delay["seconds"])
            return _json_response(payload, status)
        self._record(method, params, status, payload, request.content_type, started)
        return _json_response(payload, status)

    def _record(
        self,
        method: str,
        params: dict,
        status: int,
        payload: dict,
        content_type: str | None,
        started: float | None = None,
    ) -> None:
        with self._lock:
            call = Call(
                method,
                params,
                index=len(self.calls),
                status=status,
                response=payload,
                content_type=content_type,
                started=started,
            )
            self.calls.append(call)
            self._notify_call_waiters()

    # ------------------------------------------------------------------ validation

    def _format(
        self,
        text: Any,
        parse_mode: Any,
        entities: Any,
        *,
        caption: bool = False,
    ) -> tuple[str, list[dict]]:
        """Parse/validate a message text or caption. Returns (plain text, entities)."""
        limit = MAX_CAPTION_LENGTH if caption else MAX_MESSAGE_LENGTH
        if text is None or text == "":
            if caption:
                return "", []
            raise _bad("message text is empty")
        text = str(text)
        if entities:
            if not isinstance(entities, list):
                raise _bad("can't parse entities: entities must be an array")
            plain, ents = text, [dict(e) for e in entities]
            total = utf16_len(plain)
            for e in ents:
                if not isinstance(e, dict) or "type" not in e:
                    raise _bad("can't parse entities: entity type expected")
                off, length = e.get("offset"), e.get("length")
                if (
                    not isinstance(off, int)
                    or not isinstance(length, int)
                    or off < 0
                    or length < 0
                    or off + length > total
                ):
                    raise _bad(f"can't parse entities: entity {e} is out of text bounds")
        else:
            mode = str(parse_mode).lower() if parse_mode not in (None, "") else None
            try:
                if mode is None:
                    plain, ents = text, []
                elif mode == "html":
                    plain, ents = parse_html(text, strict=self.strict_html)
                elif mode == "markdownv2":
                    plain, ents = parse_markdown_v2(text)
                elif mode == "markdown":
                    plain, ents = parse_markdown(text)
                else:
                    raise _bad("unsupported parse_mode")
            except EntityParseError as err:
                raise _bad(f"can't parse entities: {err}") from None
        if not plain.strip():
            if caption:
                return "", []
            raise _bad("message text is empty")
        if utf16_len(plain) > limit:
            raise _bad("message caption is too long" if caption else "message is too long")
        return plain, ents

    def _validate_reply_markup(self, markup: Any, *, inline_only: bool = False) -> dict | None:
        if markup is None or markup == "":
            return None
        if isinstance(markup, str):
            try:
                markup = json.loads(markup)
            except ValueError:
                raise _bad("can't parse reply keyboard markup JSON object") from None
        if not isinstance(markup, dict):
            raise _bad("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            rows = markup["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise _bad("can't parse inline keyboard button: InlineKeyboardButton rows must be arrays")
            actions = (
                "url",
                "callback_data",
                "web_app",
                "login_url",
                "switch_inline_query",
                "switch_inline_query_current_chat",
                "switch_inline_query_chosen_chat",
                "copy_text",
                "callback_game",
                "pay",
            )
            for row in rows:
                for button in row:
                    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                        raise _bad('can\'t parse inline keyboard button: Field "text" must be of type String')
                    present = [a for a in actions if a in button]
                    if not present:
                        raise _bad(
                            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
                        )
                    if "callback_data" in button:
                        data = button["callback_data"]
                        size = len(str(data).encode("utf-8"))
                        if not isinstance(data, str) or size == 0 or size > MAX_CALLBACK_DATA_BYTES:
                            raise _bad("BUTTON_DATA_INVALID")
                    if "url" in button:
                        url = str(button["url"])
                        if _checked_link(url) is None:
                            raise _bad(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")
            return markup
        if inline_only:
            raise _bad("reply markup must be an inline keyboard")
        if "keyboard" in markup:
            rows = markup["keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise _bad("can't parse keyboard: rows must be arrays")
            return markup
        if markup.get("remove_keyboard") or markup.get("force_reply"):
            return markup
        raise _bad("can't parse reply keyboard markup JSON object")

    def _reply_to(self, chat: dict, params: dict) -> dict | None:
        rp = params.get("reply_parameters")
        message_id = None
        allow_without = bool(params.get("allow_sending_without_reply"))
        target_chat = chat["id"]
        if isinstance(rp, dict):
            message_id = rp.get("message_id")
            allow_without = allow_without or bool(rp.get("allow_sending_without_reply"))
            if rp.get("chat_id") is not None:
                target_chat = self._resolve_chat(rp["chat_id"])["id"]
        elif params.get("reply_to_message_id") is not None:
            message_id = params["reply_to_message_id"]
        if message_id is None:
            return None
        replied = self.get_message(target_chat, int(message_id))
        if replied is None:
            if allow_without:
                return None
            raise _bad("message to be replied not found")
        replied.pop("reply_to_message", None)
        return replied

    def _check_can_send(self, chat: dict) -> None:
        if chat["type"] == "private" and chat["id"] in self.blocked_users:
            raise ApiError(403, "Forbidden: bot was blocked by the user")

    def _new_bot_message(self, params: dict, content: dict) -> dict:
        chat = self._resolve_chat(params.get("chat_id"))
        self._check_can_send(chat)
        markup = self._validate_reply_markup(params.get("reply_markup"))
        reply = self._reply_to(chat, params)
        msg: dict[str, Any] = {
            "message_id": self._next_message_id(chat["id"]),
            "from": self.bot_user,
            "chat": chat,
            "date": int(time.time()),
        }
        if chat["type"] == "channel":
            msg["sender_chat"] = chat
        if params.get("message_thread_id"):
            msg["message_thread_id"] = params["message_thread_id"]
        if reply is not None:
            msg["reply_to_message"] = reply
        msg.update(content)
        if markup and "inline_keyboard" in markup:
            msg["reply_markup"] = markup
        self._store_message(msg)
        return msg

    def _target_message(self, params: dict, *, action: str = "edit") -> tuple[dict | None, Any]:
        """(stored message, None) for chat_id+message_id or (None, inline_message_id)."""
        if params.get("inline_message_id"):
            return None, params["inline_message_id"]
        chat = self._resolve_chat(params.get("chat_id"))
        if params.get("message_id") in (None, ""):
            raise _bad("message identifier is not specified")
        msg = self._messages.get((chat["id"], int(params["message_id"])))
        if msg is None:
            raise _bad(f"message to {action} not found")
        if action == "edit" and msg.get("from", {}).get("id") != self.bot_id:
            raise _bad("message can't be edited")
        return msg, None

    # ------------------------------------------------------------------ method handlers

    def _generic_handler(self, method: str) -> Callable[[dict], Any]:
        lower = method.lower()
        if lower.startswith("send") and method not in (
            "sendChatAction",
            "sendMessageDraft",
            "sendGift",
            "sendMediaGroup",
        ):
            return lambda params: self._send_generic(method, params)
        return lambda params: True

    def _api_getMe(self, params: dict) -> dict:
        return {
            **self.bot_user,
            "can_join_groups": self.can_join_groups,
            "can_read_all_group_messages": self.can_read_all_group_messages,
            "supports_inline_queries": self.supports_inline_queries,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _api_getUpdates(self, params: dict) -> list[dict]:
        with self._lock:
            if self._webhook.get("url"):
                raise ApiError(
                    409,
                    "Conflict: can't use getUpdates method while webhook is "
                    "active; use deleteWebhook to delete the webhook first",
                )
        offset = params.get("offset")
        limit = params.get("limit") or 100
        limit = max(1, min(100, int(limit)))
        timeout = float(params.get("timeout") or 0)
        allowed = params.get("allowed_updates")
        with self._lock:
            if isinstance(allowed, list) and allowed:
                self._allowed_updates = frozenset(allowed)
            elif isinstance(allowed, list):
                self._allowed_updates = _DEFAULT_ALLOWED_UPDATES
            if offset:
                offset = int(offset)
                if offset > 0:
                    self._updates = [u for u in self._updates if u["update_id"] >= offset]
                else:
                    self._updates = self._updates[offset:]
        # a newer getUpdates terminates a pending one, as on Telegram
        previous = self._active_poll
        if previous is not None:
            previous["terminated"] = True
            self._wake_update_waiters()
        poll = {"terminated": False}
        self._active_poll = poll
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        try:
            while True:
                if poll["terminated"]:
                    raise ApiError(
                        409,
                        "Conflict: terminated by other getUpdates request; "
                        "make sure that only one bot instance is running",
                    )
                with self._lock:
                    self._next_deliverable(None)  # drops updates of disallowed types
                    batch = copy.deepcopy(self._updates[:limit])
                remaining = deadline - loop.time()
                if batch or remaining <= 0 or self._closing:
                    return batch
                await self._wait_update_signal(remaining)
        finally:
            if self._active_poll is poll:
                self._active_poll = None

    def _api_setWebhook(self, params: dict) -> bool:
        url = str(params.get("url") or "")
        secret = params.get("secret_token")
        if secret is not None and secret != "":
            secret = str(secret)
            if not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
                raise _bad("secret token contains unallowed characters")
        else:
            secret = None
        if url and not re.match(r"^https?://[^/\s]+", url):
            raise _bad("bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")
        with self._lock:
            if params.get("drop_pending_updates"):
                self._updates.clear()
            if not url:
                self._webhook = {}
                self._webhook_generation += 1
                return True
            self._webhook = {
                "url": url,
                "secret_token": secret,
                "max_connections": int(params.get("max_connections") or 40),
                "ip_address": params.get("ip_address") or "127.0.0.1",
                "has_custom_certificate": isinstance(params.get("certificate"), UploadedFile),
            }
            allowed = params.get("allowed_updates")
            if isinstance(allowed, list):
                self._allowed_updates = frozenset(allowed) if allowed else _DEFAULT_ALLOWED_UPDATES
            self._start_webhook_delivery()
        return True

    def _api_deleteWebhook(self, params: dict) -> bool:
        with self._lock:
            self._webhook = {}
            self._webhook_generation += 1
            if params.get("drop_pending_updates"):
                self._updates.clear()
        return True

    def _api_getWebhookInfo(self, params: dict) -> dict:
        with self._lock:
            wh = self._webhook
            info: dict[str, Any] = {
                "url": wh.get("url", ""),
                "has_custom_certificate": bool(wh.get("has_custom_certificate")),
                "pending_update_count": len(self._updates),
            }
            if wh.get("url"):
                info["max_connections"] = wh["max_connections"]
                info["ip_address"] = wh["ip_address"]
                if self._allowed_updates != _DEFAULT_ALLOWED_UPDATES:
                    info["allowed_updates"] = sorted(self._allowed_updates)
            for key in ("last_error_date", "last_error_message"):
                if wh.get(key):
                    info[key] = wh[key]
            return info

    @property
    def webhook(self) -> dict:
        """Current webhook registration: {} or {"url", "secret_token", ...}."""
        with self._lock:
            return dict(self._webhook)

    @staticmethod
    def _commands_key(params: dict) -> str:
        scope = params.get("scope") or {"type": "default"}
        return json.dumps([scope, params.get("language_code") or ""], sort_keys=True)

    def _api_setMyCommands(self, params: dict) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _bad("can't parse commands JSON object")
        if len(commands) > 100:
            raise _bad("too many commands specified")
        clean = []
        for cmd in commands:
            if not isinstance(cmd, dict):
                raise _bad("can't parse BotCommand")
            name = str(cmd.get("command", ""))
            desc = str(cmd.get("description", ""))
            if not re.fullmatch(r"[a-z0-9_]{1,32}", name.lstrip("/").lower()) or not re.fullmatch(
                r"/?[a-z0-9_]{1,32}", name
            ):
                raise _bad("BOT_COMMAND_INVALID")
            if not 1 <= len(desc.strip()) <= 256:
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")
            clean.append({"command": name.lstrip("/"), "description": desc})
        with self._lock:
            self._commands[self._commands_key(params)] = clean
        return True

    def _api_getMyCommands(self, params: dict) -> list[dict]:
        with self._lock:
            return copy.deepcopy(self._commands.get(self._commands_key(params), []))

    def _api_deleteMyCommands(self, params: dict) -> bool:
        with self._lock:
            self._commands.pop(self._commands_key(params), None)
        return True

    def commands(self, scope: dict | None = None, language_code: str = "") -> list[dict]:
        """Commands registered with setMyCommands for that scope/language."""
        key = self._commands_key({"scope": scope, "language_code": language_code})
        with self._lock:
            return copy.deepcopy(self._commands.get(key, []))

    def _api_sendMessage(self, params: dict) -> dict:
        text, entities = self._format(params.get("text"), params.get("parse_mode"), params.get("entities"))
        content: dict[str, Any] = {"text": text}
        if entities:
            content["entities"] = entities
        lpo = params.get("link_preview_options")
        if isinstance(lpo, dict) and lpo:
            content["link_preview_options"] = lpo
        return self._new_bot_message(params, content)

    def _api_editMessageText(self, params: dict) -> dict | bool:
        text, entities = self._format(params.get("text"), params.get("parse_mode"), params.get("entities"))
        markup = self._validate_reply_markup(params.get("reply_markup"), inline_only=True)
        with self._lock:
            msg, _inline_id = self._target_message(params)
            if msg is None:
                return True
            if "text" not in msg:
                raise _bad("there is no text in the message to edit")
            if (
                msg.get("text") == text
                and msg.get("entities", []) == entities
                and _markup_eq(msg.get("reply_markup"), markup)
            ):
                raise _bad(
                    "message is not modified: specified new message content and reply "
                    "markup are exactly the same as a current content and reply markup "
                    "of the message"
                )
            msg["text"] = text
            if entities:
                msg["entities"] = entities
            else:
                msg.pop("entities", None)
            _set_markup(msg, markup)
            msg["edit_date"] = int(time.time())
            return copy.deepcopy(msg)

    def _api_editMessageCaption(self, params: dict) -> dict | bool:
        caption, entities = self._format(
            params.get("caption"), params.get("parse_mode"), params.get("caption_entities"), caption=True
        )
        markup = self._validate_reply_markup(params.get("reply_markup"), inline_only=True)
        with self._lock:
            msg, _ = self._target_message(params)
            if msg is None:
                return True
            if (
                msg.get("caption", "") == caption
                and msg.get("caption_entities", []) == entities
                and _markup_eq(msg.get("reply_markup"), markup)
            ):
                raise _bad(
                    "message is not modified: specified new message content and reply "
                    "markup are exactly the same as a current content and reply markup "
                    "of the message"
                )
            _set_caption(msg, caption, entities)
            _set_markup(msg, markup)
            msg["edit_date"] = int(time.time())
            return copy.deepcopy(msg)

    def _api_editMessageReplyMarkup(self, params: dict) -> dict | bool:
        markup = self._validate_reply_markup(params.get("reply_markup"), inline_only=True)
        with self._lock:
            msg, _ = self._target_message(params)
            if msg is None:
                return True
            if _markup_eq(msg.get("reply_markup"), markup):
                raise _bad(
                    "message is not modified: specified new message content and reply "
                    "markup are exactly the same as a current content and reply markup "
                    "of the message"
                )
            _set_markup(msg, markup)
            msg["edit_date"] = int(time.time())
            return copy.deepcopy(msg)

    def _api_deleteMessage(self, params: dict) -> bool:
        with self._lock:
            msg, _ = self._target_message(params, action="delete")
            if msg is None:
                raise _bad("message to delete not found")
            self._messages.pop((msg["chat"]["id"], msg["message_id"]), None)
        return True

    def _api_deleteMessages(self, params: dict) -> bool:
        chat = self._resolve_chat(params.get("chat_id"))
        ids = params.get("message_ids") or []
        with self._lock:
            for mid in ids:
                self._messages.pop((chat["id"], int(mid)), None)
        return True

    def _api_answerCallbackQuery(self, params: dict) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        with self._lock:
            if query_id not in self._callback_queries:
                raise _bad("query is too old and response timeout expired or query ID is invalid")
        text = params.get("text")
        if text is not None and utf16_len(str(text)) > 200:
            raise _bad("MESSAGE_TOO_LONG")
        return True

    def _api_answerInlineQuery(self, params: dict) -> bool:
        query_id = str(params.get("inline_query_id") or "")
        with self._lock:
            if query_id not in self._inline_queries:
                raise _bad("query is too old and response timeout expired or query ID is invalid")
        results = params.get("results")
        if isinstance(results, str):
            try:
                results = json.loads(results)
            except ValueError:
                raise _bad("can't parse inline query results JSON object") from None
        if not isinstance(results, list):
            raise _bad("can't parse inline query results JSON object")
        if len(results) > MAX_INLINE_RESULTS:
            raise _bad("RESULTS_TOO_MUCH")
        seen: set[str] = set()
        for result in results:
            if not isinstance(result, dict) or not result.get("type"):
                raise _bad('can\'t parse inline query result: Field "type" must be of type String')
            rid = str(result.get("id", ""))
            if not 1 <= len(rid.encode("utf-8")) <= 64:
                raise _bad("RESULT_ID_INVALID")
            if rid in seen:
                raise _bad("RESULT_ID_DUPLICATE")
            seen.add(rid)
            if result["type"] == "article":
                if not result.get("title"):
                    raise _bad('can\'t parse inline query result: Field "title" must be of type String')
                if not isinstance(result.get("input_message_content"), dict):
                    raise _bad('can\'t parse inline query result: Field "input_message_content" must be of type Object')
            imc = result.get("input_message_content")
            if isinstance(imc, dict) and "message_text" in imc:
                self._format(imc.get("message_text"), imc.get("parse_mode"), imc.get("entities"))
            if result.get("caption") is not None:
                self._format(
                    result.get("caption"), result.get("parse_mode"), result.get("caption_entities"), caption=True
                )
            if result.get("reply_markup") is not None:
                self._validate_reply_markup(result["reply_markup"], inline_only=True)
        next_offset = params.get("next_offset")
        if next_offset is not None and len(str(next_offset).encode("utf-8")) > 64:
            raise _bad("NEXT_OFFSET_INVALID")
        return True

    def _api_sendChatAction(self, params: dict) -> bool:
        chat = self._resolve_chat(params.get("chat_id"))
        self._check_can_send(chat)
        if params.get("action") not in _CHAT_ACTIONS:
            raise _bad("wrong parameter action in request")
        return True

    def _api_getFile(self, params: dict) -> dict:
        file_id = params.get("file_id")
        if not file_id:
            raise _bad("file_id is empty")
        with self._lock:
            info = self._files.get(str(file_id))
        if info is None:
            raise _bad("invalid file_id")
        if info["file_size"] > MAX_DOWNLOAD_SIZE:
            raise _bad("file is too big")
        return {
            "file_id": info["file_id"],
            "file_unique_id": info["file_unique_id"],
            "file_size": info["file_size"],
            "file_path": info["file_path"],
        }

    def _api_getChat(self, params: dict) -> dict:
        chat = self._resolve_chat(params.get("chat_id"))
        return {
            **chat,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    def _api_getChatMember(self, params: dict) -> dict:
        self._resolve_chat(params.get("chat_id"))
        uid = int(params.get("user_id") or 0)
        user = self.bot_user if uid == self.bot_id else self._user(uid)
        return {"status": "member", "user": user}

    def _api_getChatMemberCount(self, params: dict) -> int:
        chat = self._resolve_chat(params.get("chat_id"))
        return 2 if chat["type"] == "private" else 3

    def _api_getChatAdministrators(self, params: dict) -> list:
        self._resolve_chat(params.get("chat_id"))
        return []

    def _api_getUserProfilePhotos(self, params: dict) -> dict:
        return {"total_count": 0, "photos": []}

    def _api_setMyDescription(self, params: dict) -> bool:
        self._bot_texts[f"description:{params.get('language_code') or ''}"] = str(params.get("description") or "")
        return True

    def _api_setMyShortDescription(self, params: dict) -> bool:
        self._bot_texts[f"short_description:{params.get('language_code') or ''}"] = str(
            params.get("short_description") or ""
        )
        return True

    def _api_setMyName(self, params: dict) -> bool:
        self._bot_texts[f"name:{params.get('language_code') or ''}"] = str(params.get("name") or "")
        return True

    def _api_getMyDescription(self, params: dict) -> dict:
        key = f"description:{params.get('language_code') or ''}"
        return {"description": self._bot_texts.get(key, "")}

    def _api_getMyShortDescription(self, params: dict) -> dict:
        key = f"short_description:{params.get('language_code') or ''}"
        return {"short_description": self._bot_texts.get(key, "")}

    def _api_getMyName(self, params: dict) -> dict:
        key = f"name:{params.get('language_code') or ''}"
        return {"name": self._bot_texts.get(key) or self.bot_first_name}

    def _api_getChatMenuButton(self, params: dict) -> dict:
        return {"type": "default"}

    def _api_getMyDefaultAdministratorRights(self, params: dict) -> dict:
        return {
            key: False
            for key in (
                "is_anonymous",
                "can_manage_chat",
                "can_delete_messages",
                "can_manage_video_chats",
                "can_restrict_members",
                "can_promote_members",
                "can_change_info",
                "can_invite_users",
                "can_post_stories",
                "can_edit_stories",
                "can_delete_stories",
            )
        }

    def _api_forwardMessage(self, params: dict) -> dict:
        source = self._source_message(params, "forward")
        content = _message_content(source)
        origin_user = source.get("from")
        content["forward_origin"] = (
            {"type": "user", "date": source["date"], "sender_user": origin_user}
            if origin_user
            else {"type": "chat", "date": source["date"], "sender_chat": source["chat"]}
        )
        return self._new_bot_message(params, content)

    def _api_copyMessage(self, params: dict) -> dict:
        source = self._source_message(params, "copy")
        content = _message_content(source)
        if params.get("caption") is not None:
            caption, ents = self._format(
                params.get("caption"), params.get("parse_mode"), params.get("caption_entities"), caption=True
            )
            content.pop("caption", None)
            content.pop("caption_entities", None)
            _set_caption(content, caption, ents)
        msg = self._new_bot_message(params, content)
        return {"message_id": msg["message_id"]}

    def _source_message(self, params: dict, action: str) -> dict:
        from_chat = self._resolve_chat(params.get("from_chat_id"))
        with self._lock:
            msg = self._messages.get((from_chat["id"], int(params.get("message_id") or 0)))
            if msg is None:
                raise _bad(f"message to {action} not found")
            return copy.deepcopy(msg)

    _MEDIA_FIELDS: ClassVar[dict[str, str]] = {
        "sendPhoto": "photo",
        "sendDocument": "document",
        "sendAudio": "audio",
        "sendVideo": "video",
        "sendAnimation": "animation",
        "sendVoice": "voice",
        "sendVideoNote": "video_note",
        "sendSticker": "sticker",
    }

    def _media_object(self, kind: str, value: Any, params: dict) -> Any:
        if value is None or value == "":
            raise _bad(f"there is no {kind} in the request")
        if isinstance(value, UploadedFile):
            file_id = self.add_file(value.data, value.filename, mime_type=value.content_type, kind=f"{kind}s")
        else:
            value = str(value)
            if value.startswith("attach://"):
                raise _bad(f"there is no {kind} in the request")
            if re.match(r"^https?://", value):
                name = urllib.parse.urlsplit(value).path.rsplit("/", 1)[-1] or kind
                file_id = self.add_file(b"", name, kind=f"{kind}s")
            else:
                self._file_info(value)
                file_id = value
        info = self._files[file_id]
        base = {"file_id": file_id, "file_unique_id": info["file_unique_id"], "file_size": info["file_size"]}
        width, height = int(params.get("width") or 640), int(params.get("height") or 480)
        duration = int(params.get("duration") or 0)
        if kind == "photo":
            return [{**base, "width": width, "height": height}]
        if kind == "document":
            obj = {**base, "mime_type": info["mime_type"]}
            if info["file_name"]:
                obj["file_name"] = info["file_name"]
            return obj
        if kind == "audio":
            return {
                **base,
                "duration": duration,
                "mime_type": info["mime_type"],
                **({"file_name": info["file_name"]} if info["file_name"] else {}),
            }
        if kind in ("video", "animation"):
            return {
                **base,
                "width": width,
                "height": height,
                "duration": duration,
                **({"file_name": info["file_name"]} if info["file_name"] else {}),
            }
        if kind == "voice":
            return {**base, "duration": duration}
        if kind == "video_note":
            return {**base, "length": int(params.get("length") or 240), "duration": duration}
        if kind == "sticker":
            return {
                **base,
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
                "type": "regular",
                **({"emoji": params["emoji"]} if params.get("emoji") else {}),
            }
        return base

    def _send_generic(self, method: str, params: dict) -> dict:
        content: dict[str, Any] = {}
        kind = self._MEDIA_FIELDS.get(method)
        if kind:
            content[kind] = self._media_object(kind, params.get(kind), params)
        elif method in ("sendLocation", "sendVenue"):
            lat, lon = params.get("latitude"), params.get("longitude")
            if lat is None or lon is None:
                raise _bad("latitude and longitude must be specified")
            location = {"latitude": float(lat), "longitude": float(lon)}
            if method == "sendVenue":
                content["venue"] = {
                    "location": location,
                    "title": params.get("title", ""),
                    "address": params.get("address", ""),
                }
            content["location"] = location
        elif method == "sendContact":
            content["contact"] = {
                "phone_number": str(params.get("phone_number", "")),
                "first_name": str(params.get("first_name", "")),
            }
        elif method == "sendDice":
            content["dice"] = {"emoji": params.get("emoji") or "\U0001f3b2", "value": 1}
        elif method == "sendPoll":
            options = params.get("options") or []
            if isinstance(options, str):
                options = json.loads(options)
            if not 2 <= len(options) <= 12:
                raise _bad("POLL_ANSWERS_INVALID")
            content["poll"] = {
                "id": str(next(self._query_seq)),
                "question": str(params.get("question", "")),
                "options": [{"text": o["text"] if isinstance(o, dict) else str(o), "voter_count": 0} for o in options],
                "total_voter_count": 0,
                "is_closed": False,
                "is_anonymous": params.get("is_anonymous", True) is not False,
                "type": params.get("type") or "regular",
                "allows_multiple_answers": bool(params.get("allows_multiple_answers")),
            }
        if "caption" in params:
            caption, ents = self._format(
                params.get("caption"), params.get("parse_mode"), params.get("caption_entities"), caption=True
            )
            _set_caption(content, caption, ents)
        return self._new_bot_message(params, content)

    def _api_sendMediaGroup(self, params: dict) -> list[dict]:
        media = params.get("media")
        if isinstance(media, str):
            media = json.loads(media)
        if not isinstance(media, list) or not 2 <= len(media) <= 10:
            raise _bad("wrong number of media items; must be 2-10")
        messages = []
        group_id = str(next(self._query_seq))
        for item in media:
            kind = item.get("type")
            ref = item.get("media")
            if isinstance(ref, str) and ref.startswith("attach://"):
                ref = params.get(ref[len("attach://") :])
            content = {kind: self._media_object(kind, ref, item), "media_group_id": group_id}
            if item.get("caption") is not None:
                caption, ents = self._format(
                    item.get("caption"), item.get("parse_mode"), item.get("caption_entities"), caption=True
                )
                _set_caption(content, caption, ents)
            messages.append(self._new_bot_message(params, content))
        return messages


# --------------------------------------------------------------------------------------
# module helpers
# --------------------------------------------------------------------------------------


class _ConnectionDropped(Exception):
    """Raised after aborting a connection on purpose (an injected reset)."""


def _abort(request: web.Request) -> None:
    transport = request.transport
    if transport is not None:
        transport.abort()


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _resolve_future(fut: asyncio.Future) -> None:
    if not fut.done():
        fut.set_result(None)


def _json_response(payload: Any, status: int) -> web.Response:
    return web.Response(
        text=json.dumps(payload, ensure_ascii=False),
        status=status,
        content_type="application/json",
    )


async def _post_json(session: aiohttp.ClientSession, url: str, update: Any, secret: str | None, timeout: float) -> int:
    headers = {"Content-Type": "application/json"}
    if secret:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    async with session.post(
        url,
        data=json.dumps(update, ensure_ascii=False).encode("utf-8"),
        headers=headers,
        timeout=aiohttp.ClientTimeout(total=timeout),
    ) as resp:
        await resp.read()
        return resp.status


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        return int(value.strip())
    return None


def _coerce(key: str, value: Any) -> Any:
    """Decode a request parameter the way Telegram's typed parser would."""
    if not isinstance(value, str):
        return value
    if key in _JSON_FIELDS or (key in _MAYBE_JSON_FIELDS and value[:1] in "[{"):
        try:
            return json.loads(value)
        except ValueError:
            return value
    if key in _INT_FIELDS:
        number = _int_or_none(value)
        return value if number is None else number
    if key in ("latitude", "longitude", "horizontal_accuracy"):
        with contextlib.suppress(ValueError):
            return float(value)
    if value in ("true", "false", "True", "False") and (key in _BOOL_FIELDS or key.startswith(_BOOL_PREFIXES)):
        return value.lower() == "true"
    return value


def _auto_entities(text: str) -> list[dict]:
    m = re.match(r"^/[A-Za-z0-9_]{1,64}(@[A-Za-z0-9_]{3,32})?(?![\w/<>])", text)
    if not m:
        return []
    return [{"type": "bot_command", "offset": 0, "length": utf16_len(m.group(0))}]


def _caption_content(content: dict, caption: str | None, caption_entities: list[dict] | None) -> dict:
    if caption is not None:
        content["caption"] = caption
        if caption_entities:
            content["caption_entities"] = caption_entities
    return content


def _set_caption(target: dict, caption: str, entities: list[dict]) -> None:
    if caption:
        target["caption"] = caption
    else:
        target.pop("caption", None)
    if entities:
        target["caption_entities"] = entities
    else:
        target.pop("caption_entities", None)


def _set_markup(msg: dict, markup: dict | None) -> None:
    if markup and markup.get("inline_keyboard"):
        msg["reply_markup"] = markup
    else:
        msg.pop("reply_markup", None)


def _markup_eq(a: dict | None, b: dict | None) -> bool:
    def norm(m: dict | None) -> Any:
        if not m or not m.get("inline_keyboard"):
            return None
        return json.dumps(m, sort_keys=True)

    return norm(a) == norm(b)


def _message_content(msg: dict) -> dict:
    skip = {
        "message_id",
        "from",
        "chat",
        "date",
        "reply_to_message",
        "edit_date",
        "forward_origin",
        "sender_chat",
        "reply_markup",
        "message_thread_id",
    }
    return {k: copy.deepcopy(v) for k, v in msg.items() if k not in skip}


def _guess_mime(file_name: str | None) -> str:
    import mimetypes

    if not file_name:
        return "application/octet-stream"
    return mimetypes.guess_type(file_name)[0] or "application/octet-stream"


# --------------------------------------------------------------------------------------
# pytest fixture (import it into a conftest.py / test module to use it)
# --------------------------------------------------------------------------------------

try:  # pragma: no cover - pytest is always there in the test environment
    import pytest as _pytest
except ImportError:  # pragma: no cover
    _pytest = None

if _pytest is not None:

    @_pytest.fixture
    def fake_bot_api() -> Iterator[FakeBotAPI]:
        """A FakeBotAPI served from a background thread (works with any event loop)."""
        with FakeBotAPI.running_in_thread() as api:
            yield api
