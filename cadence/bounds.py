"""What one template may build: a book shared through git is not trusted to be kind.

Jinja's sandbox keeps a template from reaching Python; these bounds keep it from building a
number, a text or a list that would hang a run or exhaust memory (a run holds the book's lock):
each operation that can grow a value (`*`, `+`, `~`, `**`, joins, formats, padding, `replace`,
`indent`) is checked before it builds, and a template that asks too much stops as a template
error at its line (cadence.sandbox names it).
"""
from __future__ import annotations

import re

from jinja2.compiler import CodeGenerator
from jinja2.exceptions import SecurityError
from jinja2.runtime import markup_join, str_join
from jinja2.sandbox import SandboxedEnvironment

# What one template may build: a book shared through git is not trusted to be kind.
MAX_TEXT = 1_000_000  # characters (or items) that one operation may make
MAX_BITS = 100_000  # the size of a number (about 30,000 digits)
MAX_OUTPUT = 5_000_000  # characters one draft may hold
_PADDING = {"center", "ljust", "rjust", "zfill", "expandtabs"}  # str methods that allocate
_PADDING_FILTERS = ("center", "indent")


class Runaway(SecurityError):
    """A template asked for more than a draft can hold."""


class BoundedSandbox(SandboxedEnvironment):
    """Jinja's sandbox, with bounds on what `**`, `*`, `+`, `~`, joins, formats and padding may
    build, so that a template cannot hang a run or exhaust memory (a run holds the book's
    lock). The code generator is Jinja's own but for `~` (`code_generator_class`, Jinja's
    documented extension point), whose join is checked for length."""

    intercepted_binops = frozenset(["**", "*", "+", "%"])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.code_generator_class = _BoundedConcat

    def call_binop(self, context, operator, left, right):
        if operator == "+" and isinstance(left, (str, list, tuple)) and \
                isinstance(right, (str, list, tuple)) and len(left) + len(right) > MAX_TEXT:
            raise Runaway(f"a text or list joined by + would be longer than {MAX_TEXT} characters or items")
        if operator == "%" and isinstance(left, str):
            _format_widths(left, right if isinstance(right, tuple) else (right,),
                           right if isinstance(right, dict) else {})
        if operator == "**" and _int(left) and _int(right) and right > 0 and abs(left) > 1:
            if right * max(abs(left).bit_length() - 1, 1) > MAX_BITS:
                raise Runaway(f"{left} ** {right} is too large a number (more than {MAX_BITS} "
                              "bits)")
        elif operator == "*":
            for seq, times in ((left, right), (right, left)):
                if isinstance(seq, (str, list, tuple)) and _int(times) and len(seq) * times > MAX_TEXT:
                    raise Runaway(f"a text or list repeated {times} times would be longer than "
                                  f"{MAX_TEXT}")
            if _int(left) and _int(right) and left.bit_length() + right.bit_length() > MAX_BITS:
                raise Runaway(f"the product is too large a number (more than {MAX_BITS} bits)")
        return super().call_binop(context, operator, left, right)

    def call(__self, __context, __obj, *args, **kwargs):  # noqa: N805 (Jinja's signature)
        name = getattr(__obj, "__name__", "")
        if isinstance(getattr(__obj, "__self__", None), str):
            if name in _PADDING:
                _widths(name, args, kwargs)
            if name in ("replace", "expandtabs"):
                _grown(name, __obj.__self__, args, kwargs)
            elif name == "join" and args:
                args = (_joined(__obj.__self__, args[0]),) + args[1:]
        return super().call(__context, __obj, *args, **kwargs)

    def wrap_str_format(self, value):
        """`'{:>9}'.format(x)`: Jinja's sandboxed format, with its widths bounded."""
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None

        def bounded(*args, **kwargs):
            _format_widths(value.__self__, args, kwargs, braces=True)
            return wrapped(*args, **kwargs)

        return bounded


def _int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _widths(name: str, args, kwargs) -> None:
    for value in (*args, *kwargs.values()):
        if _int(value) and value > MAX_TEXT:
            raise Runaway(f"{name}({value}) would make a text longer than {MAX_TEXT} characters")


_PERCENT = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d*)(?:\.(\*|\d*))?")
_BRACED = re.compile(r"\{[^{}]*(?:\{[^{}]*\}[^{}]*)*\}")


def _format_widths(text: str, args, kwargs, braces: bool = False) -> None:
    """A `%` or `{}` format whose width or precision would make a text past MAX_TEXT."""
    numbers, starred = [], False
    for width, precision in _PERCENT.findall(text):
        numbers += [width, precision]
        starred = starred or "*" in (width, precision)
    if braces:
        for field in _BRACED.findall(text):
            spec = field[1:-1].partition(":")[2]
            numbers += re.findall(r"\d+", spec)
            starred = starred or "{" in spec
    widths = [int(n) for n in numbers if n.isdigit()]
    if starred:  # the width is an argument: `'%*d' % (w, x)`, `'{:{w}}'.format(x, w=w)`
        widths += [v for v in (*args, *kwargs.values()) if _int(v)]
    if any(width > MAX_TEXT for width in widths):
        raise Runaway(f"the format {text[:40]!r} asks for a width of {max(widths)}, past "
                      f"{MAX_TEXT} characters")


def _grown(name: str, text: str, args, kwargs) -> None:
    """What `replace`, `expandtabs` or the `indent` filter would make of `text`, by its
    length: within MAX_TEXT, or a Runaway before it is built."""
    if name == "replace":
        given = list(args[:2]) + [kwargs.get(key) for key in ("old", "new")[len(args[:2]):]]
        old, new = given
        if not isinstance(old, str) or not isinstance(new, str):
            return
        times = text.count(old) if old else len(text) + 1
        limit = args[2] if len(args) > 2 else kwargs.get("count")
        if _int(limit) and limit >= 0:
            times = min(times, limit)
        size = len(text) + times * (len(new) - len(old))
    elif name == "expandtabs":
        tabsize = args[0] if args else kwargs.get("tabsize", 8)
        size = len(text) + text.count("\t") * (tabsize if _int(tabsize) else 8)
    else:  # indent
        width = args[0] if args else kwargs.get("width", 4)
        size = len(text) + (text.count("\n") + 1) * (len(width) if isinstance(width, str)
                                                     else width if _int(width) else 0)
    if size > MAX_TEXT:
        raise Runaway(f"{name} would make a text longer than {MAX_TEXT} characters")


def _grown_filter(real, name: str):
    def bounded(*args, **kwargs):
        values = args[1:] if name == "replace" else args  # replace takes the eval context first
        if values and isinstance(values[0], str):
            _grown(name, values[0], values[1:], kwargs)
        return real(*args, **kwargs)

    bounded.__name__ = name
    if hasattr(real, "jinja_pass_arg"):
        bounded.jinja_pass_arg = real.jinja_pass_arg
    return bounded


def _joined(separator, items) -> list:
    """The items of a join, once their joined length is known to stay within MAX_TEXT."""
    items = list(items) if not isinstance(items, (list, tuple)) else items
    size = len(separator) * max(len(items) - 1, 0)
    for item in items:
        size += len(item) if isinstance(item, str) else 0
        if size > MAX_TEXT:
            raise Runaway(f"a join would make a text longer than {MAX_TEXT} characters")
    return items


def _bounded(join):
    def concat(parts) -> str:
        """`a ~ b`, no longer than MAX_TEXT characters."""
        text = join(parts)
        if len(text) > MAX_TEXT:
            raise Runaway(f"a text joined by ~ would be longer than {MAX_TEXT} characters")
        return text

    return concat


class _BoundedConcat(CodeGenerator):
    """Jinja's code generator, with `~` bounded: it compiles to a join of its parts (Jinja's
    own, Markup's in an HTML twin), whose length is then checked."""

    def visit_Concat(self, node, frame):
        if frame.eval_ctx.volatile:
            self.write("(environment.concat_markup if context.eval_ctx.volatile else "
                       "environment.concat_text)((")
        else:
            self.write(f"environment.concat_{'markup' if frame.eval_ctx.autoescape else 'text'}((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


def _join_filter(real):
    def bounded(eval_ctx, value, d="", attribute=None):
        items = list(value)
        if attribute is None:
            _joined(d, [item if isinstance(item, str) else str(item) for item in items])
        return real(eval_ctx, items, d, attribute)

    bounded.jinja_pass_arg = real.jinja_pass_arg
    return bounded


def _padding_filter(real, name: str):
    def bounded(*args, **kwargs):
        _widths(name, args[1:], kwargs)
        return real(*args, **kwargs)

    bounded.__name__ = name
    for attribute in ("jinja_pass_arg",):
        if hasattr(real, attribute):
            setattr(bounded, attribute, getattr(real, attribute))
    return bounded


def _format_filter(real):
    def bounded(value, *args, **kwargs):
        _format_widths(str(value), args, kwargs)
        return real(value, *args, **kwargs)

    return bounded


def bound(env: SandboxedEnvironment) -> SandboxedEnvironment:
    """`env` with the filters that can grow a text bounded, and `~` checked."""
    for name in _PADDING_FILTERS:
        env.filters[name] = _padding_filter(env.filters[name], name)
    env.filters["join"] = _join_filter(env.filters["join"])
    for name in ("indent", "replace"):
        env.filters[name] = _grown_filter(env.filters[name], name)
    env.filters["format"] = _format_filter(env.filters["format"])
    env.concat_text, env.concat_markup = _bounded(str_join), _bounded(markup_join)
    return env
