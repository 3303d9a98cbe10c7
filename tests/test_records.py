"""`records.frozen` behaves as `dataclass(frozen=True)` does, for everything cadence uses."""
from __future__ import annotations

import copy
import dataclasses
import pickle
from dataclasses import FrozenInstanceError, dataclass, field
from typing import Optional

import pytest

from cadence.records import frozen


def _made(name: str, decorate):
    """The same class, named `name` here (pickle finds it), made by `decorate`."""

    def body():
        class Item:
            """An item."""

            name: str
            count: int = 0
            tags: tuple = ()
            extra: list = field(default_factory=list, compare=False)
            secret: str = field(default="", repr=False, compare=False)
            parent: Optional[object] = None

            def label(self) -> str:
                return f"{self.name}#{self.count}"

        Item.__name__ = Item.__qualname__ = name
        return Item

    cls = globals()[name] = decorate(body())
    return cls


PAIRS = {
    False: (_made("MadeItem", frozen), _made("ReferenceItem", dataclass(frozen=True))),
    True: (_made("MadeSlotItem", frozen(slots=True)),
           _made("ReferenceSlotItem", dataclass(frozen=True, slots=True))),
}


def _pair(slots: bool):
    return PAIRS[slots]


@pytest.mark.parametrize("slots", [False, True])
def test_behaves_as_a_frozen_dataclass(slots):
    made, ref = _pair(slots)
    for cls in (made, ref):
        a = cls("a", 2, ("x",), secret="s")
        b = cls("a", 2, ("x",), secret="other")
        assert a == b and hash(a) == hash(b)  # `secret` is not compared
        assert a != cls("a", 3) and a != "a"
        assert a.label() == "a#2"
        assert cls("b").extra == [] and cls("b").extra is not cls("b").extra
        with pytest.raises(FrozenInstanceError):
            a.count = 5
        with pytest.raises(FrozenInstanceError):
            del a.count
        assert dataclasses.replace(a, count=9).count == 9
        assert dataclasses.asdict(a)["tags"] == ("x",)
        assert [f.name for f in dataclasses.fields(cls)] == [
            "name", "count", "tags", "extra", "secret", "parent"]
        assert pickle.loads(pickle.dumps(a)) == a
        assert copy.deepcopy(a) == a
        with pytest.raises(TypeError):
            cls()  # `name` is required
    # the same text, apart from the class's place
    assert repr(made("a", 2)).split("(", 1)[1] == repr(ref("a", 2)).split("(", 1)[1]
    assert repr(made("a", 2)).startswith(made.__name__ + "(")
    assert "secret" not in repr(made("a"))
    assert made.__match_args__ == ref.__match_args__


def test_slots_mean_no_instance_dict():
    made, _ = _pair(True)
    assert not hasattr(made("a"), "__dict__")


def test_hand_written_methods_are_kept():
    @frozen
    class Point:
        x: int
        y: int = 0

        def __repr__(self) -> str:
            return f"<{self.x},{self.y}>"

    assert repr(Point(1, 2)) == "<1,2>"
    assert Point(1) == Point(1, 0)


def test_refuses_what_it_does_not_write():
    with pytest.raises(TypeError):
        @frozen
        class Odd:
            a: int = field(default=0, init=False)


def test_init_is_compiled_on_the_first_instance():
    @frozen
    class Late:
        """Made later."""

        a: int
        b: str = "x"

    stub = Late.__init__
    assert Late(1).b == "x"
    assert Late.__init__ is not stub  # the compiled one took its place
    assert list(__import__("inspect").signature(Late).parameters) == ["a", "b"]
    assert Late(2, b="y") == Late(a=2, b="y")
    with pytest.raises(TypeError):
        Late()
