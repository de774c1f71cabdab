"""Build each aiogram type's pydantic schema on first use, not all of them when aiogram is imported.

aiogram's TelegramObject asks pydantic to defer its schemas (`defer_build=True`), yet the last lines
of `aiogram/types/__init__.py` call `model_rebuild(_types_namespace=…)` on all ~300 types to
resolve their forward references, which builds every schema there and then: 3 s of CPU on this
machine, paid by every bot process, every test worker and every start in production, for the
stickers, payments, giveaways… the bot never sees (aiogram issues #1876, #1891).

`install()` (from `bot/__init__.py`, before anything imports aiogram) makes that one loop, and
nothing else, record instead of build: while `aiogram/types/__init__.py` executes, a call
`model_rebuild(_types_namespace=ns)` on a still deferred aiogram type leaves it deferred, and its
first use (validation, serialization, `model_json_schema()`…) makes the very same call,
`model_rebuild(_types_namespace=ns)`, so its names resolve as they did. One more thing has to hold:
a model that nests a type not built yet (a method such as SendMessage, `Response[Message]`, an
Update built before its Message) builds that type's schema inline, resolving its annotations in the
globals of its module, where aiogram imports the other types only under TYPE_CHECKING. So each
`aiogram.types.*` module gets the names of that namespace it lacks (`setdefault`: none of them
names anything else there, checked by the tests), which is what its annotations mean.

The patch of `BaseModel.model_rebuild` lasts only while `aiogram/types/__init__.py` executes and is
restored after it whatever happens. If pydantic's internals are not the ones this was written
against, or aiogram is imported already, nothing changes (logged at debug level). The tests
compare every type's and method's JSON schema, and validations and dumps, with and without it.
"""

from __future__ import annotations

import importlib.util
import logging
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from types import ModuleType
from typing import Any

log = logging.getLogger(__name__)

TYPES_PACKAGE = "aiogram.types"
_REBUILD_PARAMETERS = {"force", "raise_errors", "_parent_namespace_depth", "_types_namespace"}
_installed = False


def install() -> bool:
    """Make the coming import of aiogram defer its types' schemas (a finder in `sys.meta_path`,
    nothing imported now); False if too late, aiogram being imported already. Idempotent."""
    global _installed
    if _installed:
        return True
    if TYPES_PACKAGE in sys.modules:
        log.debug("lazy aiogram schemas: %s is imported already, its schemas are built", TYPES_PACKAGE)
        return False
    sys.meta_path.insert(0, _TypesFinder())
    _installed = True
    return True


def _pydantic_internals() -> tuple[Any, type, type] | None:
    """pydantic's `BaseModel.model_rebuild` classmethod and its mock classes, if they are the ones
    this module knows (pydantic 2.11–2.13); None otherwise."""
    try:
        import inspect

        from pydantic import BaseModel
        from pydantic._internal._mock_val_ser import MockCoreSchema, MockValSer

        rebuild = BaseModel.__dict__["model_rebuild"]

        def accepts(function: Any, names: set[str]) -> bool:
            return names.issubset(inspect.signature(function).parameters)

        known = (
            isinstance(rebuild, classmethod)
            and accepts(rebuild.__func__, _REBUILD_PARAMETERS)
            and accepts(MockCoreSchema, {"code", "attempt_rebuild"})
            and accepts(MockValSer, {"code", "val_or_ser", "attempt_rebuild"})
        )
    except Exception as error:  # any difference at all: aiogram's own behaviour
        log.debug("lazy aiogram schemas: pydantic internals differ (%r), not applied", error)
        return None
    if not known:
        log.debug("lazy aiogram schemas: pydantic internals differ, not applied")
        return None
    return rebuild, MockCoreSchema, MockValSer


class _TypesFinder:  # a MetaPathFinder (importlib.abc costs 20-50 ms to import: duck-typed)
    """Finds `aiogram.types` as usual (once), with a loader that executes it under `deferring()`."""

    def find_spec(self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None) -> Any:
        if fullname != TYPES_PACKAGE:
            return None
        sys.meta_path.remove(self)  # once, and the real finders below answer
        spec = importlib.util.find_spec(fullname)
        if spec is not None and spec.loader is not None and hasattr(spec.loader, "exec_module"):
            spec.loader = _DeferringLoader(spec.loader)
        return spec


class _DeferringLoader:  # an importlib Loader
    """The real loader of `aiogram.types`, executing the module under `deferring()`; the module is
    given its real loader back at the end, so it looks imported as usual."""

    def __init__(self, loader: Any) -> None:
        self.loader = loader

    def create_module(self, spec: Any) -> ModuleType | None:
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        try:
            with deferring():
                self.loader.exec_module(module)
        finally:
            module.__loader__ = self.loader
            if module.__spec__ is not None:
                module.__spec__.loader = self.loader

    def __getattr__(self, name: str) -> Any:  # get_source, is_package, resource readers…
        return getattr(self.loader, name)


@contextmanager
def deferring() -> Iterator[None]:
    """While inside, `model_rebuild(_types_namespace=ns)` on a deferred aiogram type only arranges
    for that call to happen on its first use; `BaseModel.model_rebuild` is restored on the way out."""
    internals = _pydantic_internals()
    if internals is None:
        yield
        return
    rebuild, mock_schema, mock_val_ser = internals
    from pydantic import BaseModel

    completed: set[str] = set()  # the modules given the namespace's names
    deferred: list[str] = []

    def model_rebuild(
        cls: Any,
        *,
        force: bool = False,
        raise_errors: bool = True,
        _parent_namespace_depth: int = 2,
        _types_namespace: Mapping[str, Any] | None = None,
    ) -> bool | None:
        if _types_namespace is not None and not force and _deferrable(cls, mock_schema):
            try:
                _defer(cls, _types_namespace, completed, mock_schema, mock_val_ser)
                deferred.append(cls.__name__)
                return None
            except Exception as error:  # never worse than aiogram's own behaviour
                log.debug("lazy aiogram schemas: %s built now (%r)", cls.__name__, error)
        return rebuild.__func__(
            cls,
            force=force,
            raise_errors=raise_errors,
            # one frame deeper than pydantic expects: this function's
            _parent_namespace_depth=_parent_namespace_depth + 1 if _parent_namespace_depth > 0 else 0,
            _types_namespace=_types_namespace,
        )

    BaseModel.model_rebuild = classmethod(model_rebuild)  # type: ignore[assignment,method-assign]
    try:
        yield
    finally:
        BaseModel.model_rebuild = rebuild  # type: ignore[method-assign]
    log.debug("lazy aiogram schemas: %d types deferred, in %d modules", len(deferred), len(completed))


def _deferrable(cls: Any, mock_schema: type) -> bool:
    """An aiogram type whose schema pydantic deferred and has not built yet."""
    return (
        cls.__module__.startswith(TYPES_PACKAGE + ".")
        and cls.model_config.get("defer_build") is True
        and not cls.__pydantic_complete__
        and isinstance(cls.__dict__.get("__pydantic_core_schema__"), mock_schema)
    )


def _defer(
    cls: Any, namespace: Mapping[str, Any], completed: set[str], mock_schema: type, mock_val_ser: type
) -> None:
    """Give the modules of `cls` and its aiogram bases the namespace's names they lack, and replace
    its mocks by ones whose rebuild is `model_rebuild(_types_namespace=namespace)`."""
    for base in cls.__mro__:
        name = getattr(base, "__module__", "")
        if name.startswith(TYPES_PACKAGE + ".") and name not in completed:
            globals_ = sys.modules[name].__dict__
            for key, value in namespace.items():
                globals_.setdefault(key, value)
            completed.add(name)

    def rebuilt(attribute: str) -> Callable[[], Any]:
        def attempt() -> Any:
            if cls.model_rebuild(raise_errors=False, _types_namespace=namespace) is not False:
                return getattr(cls, attribute)
            return None

        return attempt

    message = (
        f"`{cls.__name__}` is not fully defined; you should define all referenced types,"
        f" then call `{cls.__name__}.model_rebuild()`."
    )
    code = "class-not-fully-defined"
    cls.__pydantic_core_schema__ = mock_schema(
        message, code=code, attempt_rebuild=rebuilt("__pydantic_core_schema__")
    )
    cls.__pydantic_validator__ = mock_val_ser(
        message, code=code, val_or_ser="validator", attempt_rebuild=rebuilt("__pydantic_validator__")
    )
    cls.__pydantic_serializer__ = mock_val_ser(
        message, code=code, val_or_ser="serializer", attempt_rebuild=rebuilt("__pydantic_serializer__")
    )
