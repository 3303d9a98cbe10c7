"""`frozen`: a frozen dataclass that costs little to define.

Before Python 3.13, `dataclass(frozen=True)` writes six methods a class as source text and
compiles each: about four million instructions a class, and cadence defines some thirty such
classes, which made up most of what its start-up adds to Typer's own (docs/benchmarks.md).
`frozen` compiles only `__init__` (its signature must be the real one, and it runs for every
contact), and only when the class makes its first instance; `__repr__`, `__eq__`, `__hash__`
and the frozen `__setattr__`/`__delattr__` are plain closures. Everything else (fields,
defaults, `replace`, `fields`, `asdict`, slots, match args) is the dataclasses module's own,
applied with its method writing turned off.
tests/test_records.py holds `frozen` to `dataclass(frozen=True)`.
"""
from __future__ import annotations

import dataclasses
from dataclasses import MISSING, FrozenInstanceError
from operator import attrgetter

_NO_VALUE = object()  # an argument left out where a default factory fills in


def frozen(cls=None, *, slots: bool = False):
    """Use as `@frozen` or `@frozen(slots=True)` where `@dataclass(frozen=True)` would go."""

    def wrap(cls):
        if not cls.__dict__.get("__doc__"):  # else dataclasses asks `inspect` for a signature
            cls.__doc__ = cls.__name__
        cls = dataclasses.dataclass(cls, init=False, repr=False, eq=False, slots=slots)
        fields = dataclasses.fields(cls)
        if any(not f.init or f.kw_only for f in fields):
            raise TypeError(f"{cls.__name__}: `frozen` makes every field a plain init argument")
        names = tuple(f.name for f in fields)
        methods = {"__init__": _lazy_init(cls, fields), **_frozen_methods(cls, names)}
        methods.update(_compared(fields))
        shown = tuple(f.name for f in fields if f.repr)
        methods["__repr__"] = lambda self: "{}({})".format(type(self).__qualname__, ", ".join(
            f"{name}={getattr(self, name)!r}" for name in shown))
        if slots:
            getter = attrgetter(*names) if len(names) > 1 else (lambda self: (getattr(self, names[0]),))

            def __setstate__(self, state):
                for name, value in zip(names, state):
                    object.__setattr__(self, name, value)

            methods["__getstate__"] = lambda self: list(getter(self))
            methods["__setstate__"] = __setstate__
        for name, method in methods.items():
            if name in ("__repr__", "__eq__", "__hash__") and name in cls.__dict__:
                continue  # written by hand in the class: dataclass leaves those too
            method.__qualname__ = f"{cls.__qualname__}.{name}"
            setattr(cls, name, method)
        return cls

    return wrap if cls is None else wrap(cls)


def _lazy_init(cls, fields):
    """An `__init__` that compiles the real one on the first instance and puts it in its place:
    a command makes instances of few of the model's classes."""

    def __init__(self, *args, **kwargs):
        real = _init(cls, fields)
        real.__qualname__ = f"{cls.__qualname__}.__init__"
        cls.__init__ = real
        real(self, *args, **kwargs)

    return __init__


def _init(cls, fields):
    """`__init__` with the fields as its parameters, defaults and all: compiled."""
    params, body, scope = [], [], {"_set": object.__setattr__, "_NO_VALUE": _NO_VALUE}
    for f in fields:
        value = f.name
        if f.default is not MISSING:
            scope[f"_default_{f.name}"] = f.default
            params.append(f"{f.name}=_default_{f.name}")
        elif f.default_factory is not MISSING:
            scope[f"_factory_{f.name}"] = f.default_factory
            params.append(f"{f.name}=_NO_VALUE")
            value = f"_factory_{f.name}() if {f.name} is _NO_VALUE else {f.name}"
        else:
            params.append(f.name)
        body.append(f"    _set(self, {f.name!r}, {value})\n")
    source = f"def __init__(self, {', '.join(params)}):\n" + ("".join(body) or "    pass\n")
    exec(compile(source, f"<{cls.__qualname__}.__init__>", "exec"), scope)  # noqa: S102
    return scope["__init__"]


def _frozen_methods(cls, names: tuple) -> dict:
    fixed = frozenset(names)

    def __setattr__(self, name, value):
        if type(self) is cls or name in fixed:
            raise FrozenInstanceError(f"cannot assign to field {name!r}")
        super(cls, self).__setattr__(name, value)

    def __delattr__(self, name):
        if type(self) is cls or name in fixed:
            raise FrozenInstanceError(f"cannot delete field {name!r}")
        super(cls, self).__delattr__(name)

    return {"__setattr__": __setattr__, "__delattr__": __delattr__}


def _compared(fields) -> dict:
    """`__eq__` and `__hash__` over the fields that take part in comparisons."""
    compared = tuple(f.name for f in fields if f.compare)
    if not compared:
        key = lambda self: ()  # noqa: E731
    elif len(compared) == 1:
        only = compared[0]
        key = lambda self: (getattr(self, only),)  # noqa: E731
    else:
        key = attrgetter(*compared)

    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return key(self) == key(other)
        return NotImplemented

    def __hash__(self):
        return hash(key(self))

    return {"__eq__": __eq__, "__hash__": __hash__}
