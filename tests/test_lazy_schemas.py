"""bot/lazy_schemas.py: aiogram's types build their pydantic schemas on first use, and build the very
same ones as aiogram does at import.

Each side runs in a fresh process: one importing aiogram as the bench's echo bot does (every schema
built at import), one importing `bot` first, as every process of the bot does."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
from pydantic import BaseModel

from bot import lazy_schemas
from bot.config import PROJECT_ROOT

CHILD = r"""
import hashlib, json, re, sys

if sys.argv[1] == "lazy":
    import bot  # noqa: F401  (installs bot.lazy_schemas)

import aiogram.methods as methods
import aiogram.types as types
from pydantic import BaseModel


def models(module):
    for name in module.__all__:
        value = getattr(module, name)
        if isinstance(value, type) and issubclass(value, BaseModel):
            yield name, value


def dump(value):
    return json.loads(json.dumps(value, sort_keys=True, default=repr))


after_import = {
    "complete": sorted(name for name, model in models(types) if model.__pydantic_complete__),
    "methods_complete": sorted(name for name, model in models(methods) if model.__pydantic_complete__),
    "rebuild": BaseModel.__dict__["model_rebuild"].__func__.__module__,
    "loader": type(types.__loader__).__name__,
    "spec_loader": type(types.__spec__.loader).__name__,
    "finders": [type(finder).__module__ for finder in sys.meta_path],
}

USER = {"id": 7, "is_bot": False, "first_name": "Ana", "last_name": "Ruiz", "language_code": "es"}
BOT = {"id": 1, "is_bot": True, "first_name": "Bridge", "username": "bridge_bot"}
CHAT = {"id": 7, "type": "private", "first_name": "Ana"}
KEYBOARD = {"inline_keyboard": [[{"text": "Yes", "callback_data": "rsvp:1:yes"}, {"text": "Web", "url": "https://example.org"}]]}
BOT_MESSAGE = {
    "message_id": 42, "date": 1700000000, "chat": CHAT, "from": BOT, "text": "Meetup on Friday",
    "entities": [{"type": "bold", "offset": 0, "length": 6}], "reply_markup": KEYBOARD,
}
UPDATES = [
    {"update_id": 1, "message": {
        "message_id": 41, "date": 1700000000, "chat": CHAT, "from": USER, "text": "/events soon",
        "entities": [{"type": "bot_command", "offset": 0, "length": 7}],
        "reply_to_message": BOT_MESSAGE,
    }},
    {"update_id": 2, "callback_query": {
        "id": "99", "from": USER, "chat_instance": "-5", "data": "rsvp:1:yes", "message": BOT_MESSAGE,
    }},
    {"update_id": 3, "my_chat_member": {
        "chat": CHAT, "from": USER, "date": 1700000100,
        "old_chat_member": {"status": "member", "user": BOT},
        "new_chat_member": {"status": "kicked", "user": BOT, "until_date": 0},
    }},
    {"update_id": 4, "message": {
        "message_id": 43, "date": 1700000200, "chat": CHAT, "from": USER,
        "sticker": {"file_id": "s", "file_unique_id": "u", "type": "regular", "width": 512,
                    "height": 512, "is_animated": False, "is_video": False, "emoji": "👍"},
    }},
]
CALLS = [
    (methods.SendMessage, {
        "chat_id": 7, "text": "<b>Meetup</b>", "parse_mode": "HTML", "reply_markup": KEYBOARD,
        "entities": [{"type": "text_mention", "offset": 0, "length": 3, "user": USER}],
        "reply_parameters": {"message_id": 41},
    }, BOT_MESSAGE),
    (methods.EditMessageText, {
        "chat_id": 7, "message_id": 42, "text": "Meetup moved", "reply_markup": KEYBOARD,
        "link_preview_options": {"is_disabled": True},
    }, BOT_MESSAGE),
    (methods.AnswerCallbackQuery, {"callback_query_id": "99", "text": "See you!", "show_alert": False}, True),
]

# The methods first: built at import, they nest types no one has used yet.
calls = []
for method, arguments, result in CALLS:
    call = method.model_validate(arguments)
    response = methods.base.Response[call.__returning__].model_validate({"ok": True, "result": result})
    calls.append([call.model_dump(), call.model_dump(mode="json", exclude_unset=True), response.model_dump()])
updates = []
for data in UPDATES:
    update = types.Update.model_validate(data)
    updates.append([update.model_dump(), update.model_dump(mode="json", exclude_none=True)])



def canonical(schema):
    # The core schema as text, each model's schema once whether inlined or a definition (where
    # pydantic puts them depends on what was built before).
    definitions = {}

    def name(ref):
        return re.sub(r":\d+$", "", ref)  # the id() pydantic appends to some references

    def walk(node):
        if isinstance(node, dict):
            if node.get("type") == "definitions":
                for definition in node["definitions"]:
                    walk(definition)
                return walk(node["schema"])
            if node.get("type") == "definition-ref":
                rest = {key: walk(value) for key, value in node.items() if key not in ("type", "schema_ref")}
                return {"ref": name(node["schema_ref"]), **rest}
            walked = {key: walk(value) for key, value in node.items()}
            if "ref" in node:
                walked["ref"] = name(node["ref"])
                definitions[walked["ref"]] = walked
                return {"ref": walked["ref"]}
            return walked
        if isinstance(node, (list, tuple)):
            return [walk(value) for value in node]
        return node

    text = json.dumps([walk(schema), definitions], sort_keys=True, default=repr)
    return re.sub(" at 0x[0-9a-f]+", "", text)


def digest(text):
    return hashlib.sha256(text.encode()).hexdigest()


# Every core schema (what validates and serializes) and field; the JSON schemas of the types the bot
# uses (a JSON schema of each of them would take half a minute).
schemas, fields, json_schemas = {}, {}, {}
for module in (methods, types):
    for name, model in models(module):
        try:
            text = canonical(dict(model.__pydantic_core_schema__))  # a deferred one is built here
        except Exception as error:  # none expected, but then the same error both ways
            text = f"{type(error).__name__}: {error}"
        schemas[name] = digest(text)
        fields[name] = {key: re.sub(" at 0x[0-9a-f]+", "", repr(info)) for key, info in model.model_fields.items()}
for model in (types.Update, types.Message, types.CallbackQuery, types.ChatMemberUpdated, methods.AnswerCallbackQuery):
    json_schemas[model.__name__] = digest(json.dumps(model.model_json_schema(), sort_keys=True))

print(json.dumps({
    "after_import": after_import, "calls": dump(calls), "updates": dump(updates),
    "schemas": schemas, "fields": fields, "json_schemas": json_schemas,
}))
"""


@pytest.fixture(scope="module")
def both() -> tuple[dict[str, Any], dict[str, Any]]:
    """What the child prints without bot.lazy_schemas and with it (the two at once: ~8 s CPU each)."""
    children = [
        subprocess.Popen(
            [sys.executable, "-W", "ignore", "-c", CHILD, mode],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=PROJECT_ROOT,
        )
        for mode in ("eager", "lazy")
    ]
    outputs = []
    for child in children:
        stdout, stderr = child.communicate(timeout=600)
        assert child.returncode == 0, stderr[-3000:]
        outputs.append(json.loads(stdout.strip().splitlines()[-1]))
    return outputs[0], outputs[1]


def test_lazy_import_builds_nothing_and_leaves_no_trace(both: tuple[dict[str, Any], dict[str, Any]]) -> None:
    eager, lazy = (side["after_import"] for side in both)
    assert len(eager["complete"]) > 250  # aiogram builds them all at import
    assert lazy["complete"] == []
    assert len(eager["methods_complete"]) > 150
    assert lazy["methods_complete"] == ["Response", "TelegramMethod"]  # generic: built as usual
    assert lazy["rebuild"] == eager["rebuild"] == "pydantic.main"
    assert lazy["loader"] == eager["loader"] and lazy["spec_loader"] == eager["spec_loader"]
    assert "bot.lazy_schemas" not in lazy["finders"]


def test_every_schema_is_the_same(both: tuple[dict[str, Any], dict[str, Any]]) -> None:
    eager, lazy = both
    assert len(eager["schemas"]) > 400
    assert {name for name in eager["schemas"] if eager["schemas"][name] != lazy["schemas"].get(name)} == set()
    assert eager["schemas"] == lazy["schemas"]
    assert eager["fields"] == lazy["fields"]
    assert len(eager["json_schemas"]) == 5
    assert eager["json_schemas"] == lazy["json_schemas"]


def test_updates_and_bot_api_calls_validate_alike(both: tuple[dict[str, Any], dict[str, Any]]) -> None:
    eager, lazy = both
    assert eager["updates"] == lazy["updates"]
    assert eager["calls"] == lazy["calls"]
    assert lazy["updates"][1][1]["callback_query"]["message"]["reply_markup"]["inline_keyboard"][0][0] == {
        "text": "Yes",
        "callback_data": "rsvp:1:yes",
    }
    assert lazy["calls"][0][2]["result"]["message_id"] == 42


def test_the_types_modules_names_mean_what_aiogram_rebuilt_them_with() -> None:
    """The names given to `aiogram.types.*` modules: each one present there is the object of
    aiogram's namespace (so `setdefault` resolves every annotation as aiogram's rebuild did)."""
    from typing import Literal, Optional, Union

    import aiogram.types
    from aiogram.client.default import Default

    namespace = {"List": list, "Optional": Optional, "Union": Union, "Literal": Literal, "Default": Default}
    namespace.update({name: getattr(aiogram.types, name) for name in aiogram.types.__all__})
    modules = [module for name, module in sys.modules.items() if name.startswith("aiogram.types.")]
    assert len(modules) > 250
    differing = {
        (module.__name__, key)
        for module in modules
        for key, value in namespace.items()
        if key in vars(module) and vars(module)[key] is not value
    }
    assert differing == set()


def test_deferring_touches_only_aiogram_types_and_restores_pydantic() -> None:
    original = BaseModel.__dict__["model_rebuild"]

    class Local(BaseModel):
        model_config = {"defer_build": True}
        size: int

    with pytest.raises(RuntimeError), lazy_schemas.deferring():
        assert BaseModel.__dict__["model_rebuild"] is not original
        Local.model_rebuild(_types_namespace={})  # not aiogram's: built as usual
        assert Local.__pydantic_complete__
        raise RuntimeError
    assert BaseModel.__dict__["model_rebuild"] is original
    assert Local(size=3).size == 3


def test_deferring_methods_touches_only_aiogram_methods_and_restores_pydantic() -> None:
    from pydantic._internal import _model_construction

    original = _model_construction.complete_model_class
    with pytest.raises(RuntimeError), lazy_schemas.deferring_methods():
        assert _model_construction.complete_model_class is not original

        class Local(BaseModel):
            size: int

        assert Local.__pydantic_complete__  # not aiogram's: built as usual
        raise RuntimeError
    assert _model_construction.complete_model_class is original
    assert Local(size=3).size == 3


def test_differing_pydantic_internals_mean_aiogram_as_usual() -> None:
    """If pydantic's `model_rebuild` is not the one bot.lazy_schemas knows, aiogram imports (and
    builds its schemas) as usual."""
    child = (
        "from pydantic import BaseModel\n"
        "original = BaseModel.model_rebuild.__func__\n"
        "BaseModel.model_rebuild = classmethod(lambda cls, **kw: original(cls, **kw))\n"
        "import bot\n"
        "from aiogram.methods import SendSticker\n"
        "from aiogram.types import Sticker\n"
        "print(Sticker.__pydantic_complete__, SendSticker.__pydantic_complete__)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", child], capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == ["True", "True"]


def test_install_is_idempotent() -> None:
    assert lazy_schemas.install() is True  # the test session imported `bot` before aiogram
    assert lazy_schemas.install() is True
    assert not any(type(finder).__module__ == lazy_schemas.__name__ for finder in sys.meta_path)
