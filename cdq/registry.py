"""The one registry idiom: a typed ``name -> thing`` dict that a decorator fills where the thing is defined.

Pipeline stages (:data:`cdq.stages.STAGES`), survivorship strategies and validity checks
(:data:`cdq.survivorship.strategies.STRATEGY_FUNCS`, ``CHECKS``) and name plausibility rules
(:data:`cdq.names.rules.RULES`) are registries. A name from a YAML file is looked up with
:meth:`Registry.lookup`, whose error lists the valid names. Plug-ins whose modules must load only when used
(import adapters, :data:`cdq.importers.KINDS`) register ``"module:attribute"`` and are loaded with
:func:`load_lazy`.

Examples:
    >>> from collections.abc import Callable
    >>> SHOUT: Registry[Callable[[str], str]] = Registry("shout")
    >>> @SHOUT.register("upper")
    ... def upper(text: str) -> str:
    ...     return text.upper()
    >>> SHOUT["upper"]("hoi"), list(SHOUT)
    ('HOI', ['upper'])
    >>> SHOUT.lookup("lower")
    Traceback (most recent call last):
    KeyError: "unknown shout 'lower'; valid: upper"
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


class Registry(dict[str, T]):
    """``name -> thing`` (a function, or a record holding one); ``kind`` names the things in messages."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind

    def add(self, name: str, thing: T) -> T:
        """Register ``thing`` under ``name`` (a later definition of the same name replaces it) and return it."""
        self[name] = thing
        return thing

    def register(self, name: str) -> Callable[[T], T]:
        """A decorator: ``@REGISTRY.register("name")`` above the definition registers it unchanged."""

        def decorate(thing: T) -> T:
            return self.add(name, thing)

        return decorate

    def lookup(self, name: str) -> T:
        """The thing registered as ``name``; a KeyError naming the valid names otherwise."""
        try:
            return self[name]
        except KeyError:
            raise KeyError(f"unknown {self.kind} {name!r}; valid: {', '.join(sorted(self))}") from None


def load_lazy(target: str) -> Any:
    """The attribute a ``"module:attribute"`` registry entry names, importing its module now.

    Examples:
        >>> load_lazy("cdq.registry:Registry").__name__
        'Registry'
    """
    module, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module), attribute)
