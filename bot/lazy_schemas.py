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

The ~230 methods (SendMessage…, not deferred by aiogram) are built as their classes are defined,
each nesting the types it takes: another second. While `aiogram/methods/__init__.py` executes, the
call that builds a (non-generic) method class, pydantic's `complete_model_class(cls, …)`, is kept
and made, with the very same arguments, on the first use of that method.

Each patch (`BaseModel.model_rebuild`, `_model_construction.complete_model_class`) lasts only while
its package's `__init__.py` executes and is restored after it whatever happens. If pydantic's
internals are not the ones this was written against, or aiogram is imported already, nothing
changes (logged at debug level). The tests compare every type's and method's core schema and
fields, some JSON schemas, and validations and dumps, with and without it.
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
METHODS_PACKAGE = "aiogram.methods"
_REBUILD_PARAMETERS = {"force", "raise_errors", "_parent_namespace_depth", "_types_namespace"}
_installed = False


def install() -> bool:
    """Make the coming import of aiogram defer its types' and methods' schemas (a finder in `sys.meta_path`,
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
    this module knows (written against pydantic 2.13); None otherwise."""
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
    """Finds `aiogram.types` and `aiogram.methods` as usual (once each), with a loader that executes
    the package under `deferring()` or `deferring_methods()`."""

    def __init__(self) -> None:
        self.packages: dict[str, Callable[[], Any]] = {
            TYPES_PACKAGE: deferring,
            METHODS_PACKAGE: deferring_methods,
        }

    def find_spec(self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None) -> Any:
        context = self.packages.pop(fullname, None)
        if context is None:
            return None
        if not self.packages:
            sys.meta_path.remove(self)  # both found: gone
        spec = _find_without(self, fullname)
        if spec is not None and spec.loader is not None and hasattr(spec.loader, "exec_module"):
            spec.loader = _DeferringLoader(spec.loader, context)
        return spec


def _find_without(finder: _TypesFinder, fullname: str) -> Any:
    """The spec the other finders give for `fullname`."""
    present = finder in sys.meta_path
    if present:
        sys.meta_path.remove(finder)
    try:
        return importlib.util.find_spec(fullname)
    finally:
        if present:
            sys.meta_path.insert(0, finder)


class _DeferringLoader:  # an importlib Loader
    """The real loader of the package, executing it under `context()`; the module is given its real
    loader back at the end, so it looks imported as usual."""

    def __init__(self, loader: Any, context: Callable[[], Any]) -> None:
        self.loader = loader
        self.context = context

    def create_module(self, spec: Any) -> ModuleType | None:
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        try:
            with self.context():
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

    _set_mocks(
        cls,
        lambda: cls.model_rebuild(raise_errors=False, _types_namespace=namespace),
        mock_schema,
        mock_val_ser,
    )


def _set_mocks(cls: Any, build: Callable[[], object], mock_schema: type, mock_val_ser: type) -> None:
    """pydantic's mocks of a class not built yet (`set_model_mocks`), whose first use calls `build`."""

    def rebuilt(attribute: str) -> Callable[[], Any]:
        def attempt() -> Any:
            if not cls.__pydantic_complete__:
                build()
            return getattr(cls, attribute) if cls.__pydantic_complete__ else None

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


@contextmanager
def deferring_methods() -> Iterator[None]:
    """While inside, a non-generic model class defined in an `aiogram.methods.*` module is not built
    at its definition: pydantic's call building it, `complete_model_class(cls, …)`, is made with the
    same arguments on its first use. `complete_model_class` is restored on the way out."""
    internals = _pydantic_internals()
    try:
        import inspect

        from pydantic._internal import _model_construction as construction

        original = construction.complete_model_class
        known = {"cls", "config_wrapper", "ns_resolver"}.issubset(inspect.signature(original).parameters)
    except Exception as error:
        log.debug("lazy aiogram schemas: pydantic internals differ (%r), methods not deferred", error)
        known = False
    if internals is None or not known:
        yield
        return
    _, mock_schema, mock_val_ser = internals
    deferred: list[str] = []

    def complete_model_class(cls: Any, config_wrapper: Any, ns_resolver: Any, **options: Any) -> bool:
        if _deferrable_method(cls):
            try:

                def build() -> object:
                    return original(cls, config_wrapper, ns_resolver, **options)

                _set_mocks(cls, build, mock_schema, mock_val_ser)
                deferred.append(cls.__name__)
                return False
            except Exception as error:  # never worse than aiogram's own behaviour
                log.debug("lazy aiogram schemas: %s built now (%r)", cls.__name__, error)
        return original(cls, config_wrapper, ns_resolver, **options)

    construction.complete_model_class = complete_model_class
    try:
        yield
    finally:
        construction.complete_model_class = original
    log.debug("lazy aiogram schemas: %d methods deferred", len(deferred))


def _deferrable_method(cls: Any) -> bool:
    """A class of an `aiogram.methods.*` module, neither generic nor parametrized, not built."""
    generic = getattr(cls, "__pydantic_generic_metadata__", None) or {}
    return (
        cls.__module__.startswith(METHODS_PACKAGE + ".")
        and not generic.get("parameters")
        and not generic.get("args")
        and not generic.get("origin")
        and not cls.__pydantic_complete__
    )
