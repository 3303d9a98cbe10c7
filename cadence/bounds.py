"""What one template may build: a book shared through git is not trusted to be kind.

Jinja's sandbox keeps a template from reaching Python; these bounds keep it from building a
number, a text or a list that would hang a run or exhaust memory (a run holds the book's lock):
each operation that can make a value larger than what it is given (`*`, `+`, `~`, `**`, `%`,
joins, formats, padding, `replace`, `indent`, `wordwrap`, `translate`, a list, set or dict
that grows, a value printed as text: `{{ list }}`, `string`, `tojson`, `escape`) is checked
before it builds, by the size of what it would make (`size`: the characters `str()` would
give, counted without making them), and so is what a block or macro gathers. A template that
asks too much stops as a template error at its line (cadence.sandbox names it).

Longer than most modules: each bound wraps one operation of Jinja's or Python's in its own
terms (its arguments, its growth), and they read best together, measured by one `size`. What
gets past them all meets the memory ceiling of cadence.guard.
"""
from __future__ import annotations

import datetime
import math
import re
from collections.abc import Mapping
from string import Formatter

from jinja2 import nodes
from jinja2.compiler import CodeGenerator
from jinja2.exceptions import SecurityError, TemplateSyntaxError
from jinja2.runtime import Macro, Undefined, markup_join, str_join
from jinja2.sandbox import SandboxedEnvironment
from jinja2.utils import Namespace, pass_eval_context

from .nesting import (TOO_DEEP, DepthGuard, check_expression, deepest_line, longest_tag_line,
                      past_the_limit, too_deep_for_python)

# What one template may build: a book shared through git is not trusted to be kind.
MAX_TEXT = 1_000_000  # characters (or items) that one operation may make
MAX_BITS = 100_000  # the size of a number (about 30,000 digits)
MAX_OUTPUT = 5_000_000  # characters one draft may hold
_PADDING = {"center", "ljust", "rjust", "zfill", "expandtabs"}  # str methods that allocate
_PADDING_FILTERS = ("center", "indent")
# filters that make a text of their value (a list's items too: `[long] * 1000 | upper`)
_SIZED_FILTERS = ("capitalize", "center", "e", "escape", "forceescape", "indent", "lower",
                  "pprint", "replace", "safe", "string", "striptags", "title", "tojson", "trim",
                  "truncate", "upper", "urlencode", "urlize", "wordcount", "wordwrap", "xmlattr")


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
        self.code_generator_class = _BoundedCode
        self.add_extension(DepthGuard)

    # How deep a template may nest (cadence.nesting): each way in, reading, compiling and an
    # `if` expression, refuses a template nested past what Jinja and Python can take as a
    # TemplateSyntaxError with its line, which every caller reports as it reports any other.
    def _parse(self, source, name, filename):
        try:
            tree = super()._parse(source, name, filename)
        except RecursionError:
            raise TemplateSyntaxError(TOO_DEEP, longest_tag_line(self, source), name,
                                      filename) from None
        line = past_the_limit(tree)
        if line is not None:
            raise TemplateSyntaxError(TOO_DEEP, line, name, filename)
        return tree

    def compile(self, source, name=None, filename=None, raw=False, defer_init=False):
        try:
            return super().compile(source, name, filename, raw, defer_init)
        except (SyntaxError, RecursionError) as err:  # Python's limits on the code Jinja writes
            tree = source if isinstance(source, nodes.Template) else \
                self._parse(source, name, filename)
            raise _beyond_python(err, tree, name, filename) from None

    def names_read(self, tree, name, filename) -> frozenset:
        """Compile a parsed template as `compile` does, with the same errors, and give the names
        it reads from the context (Jinja's `meta.find_undeclared_variables`), in one pass of the
        code generator: `check` needs both, and Jinja's own reading is a second pass of the
        generator (a third of the time `check` spent on the 181 bundled templates)."""
        reader = _Reading(self, name, filename, None, False, self.optimized)
        try:
            reader.visit(tree)
            compile(reader.stream.getvalue(), filename or "<template>", "exec")
        except (SyntaxError, RecursionError) as err:
            raise _beyond_python(err, tree, name, filename) from None
        return frozenset(reader.names)

    def compile_expression(self, source, undefined_to_none=True):
        check_expression(self, source)
        return super().compile_expression(source, undefined_to_none)

    def call_binop(self, context, operator, left, right):
        if operator == "+" and isinstance(left, _SEQUENCES) and isinstance(right, _SEQUENCES) \
                and len(left) + len(right) > MAX_TEXT:
            raise Runaway(f"a text or list joined by + would be longer than {MAX_TEXT} characters or items")
        if operator == "%" and isinstance(left, _TEXTS):
            values = right if isinstance(right, (tuple, Mapping)) else (right,)
            _format_widths(left, values, right if isinstance(right, Mapping) else {})
            _formatted(left, values)
        if operator == "**" and _int(left) and _int(right) and right > 0 and abs(left) > 1:
            if right * math.log2(abs(left)) > MAX_BITS:
                raise Runaway(f"{left} ** {right} is too large a number (more than {MAX_BITS} "
                              "bits)")
        elif operator == "*":
            for seq, times in ((left, right), (right, left)):
                if isinstance(seq, _SEQUENCES) and _int(times) and len(seq) * times > MAX_TEXT:
                    raise Runaway(f"a text or list repeated {times} times would be longer than "
                                  f"{MAX_TEXT}")
            if _int(left) and _int(right) and left.bit_length() + right.bit_length() > MAX_BITS:
                raise Runaway(f"the product is too large a number (more than {MAX_BITS} bits)")
        return super().call_binop(context, operator, left, right)

    def call(__self, __context, __obj, *args, **kwargs):  # noqa: N805 (Jinja's signature)
        name = getattr(__obj, "__name__", "")
        owner = getattr(__obj, "__self__", None)
        if isinstance(owner, _TEXTS):
            if name in _PADDING:
                _widths(name, args, kwargs)
            if name in ("replace", "expandtabs", "translate"):
                _grown(name, owner, args, kwargs)
            elif name == "join" and args:
                args = (_joined(owner, args[0]),) + args[1:]
        elif isinstance(owner, _GROWING) and name in _GROWS:
            added = sum(len(a) if name in _GROWS_BY_MANY and hasattr(a, "__len__") else 1
                        for a in (*args, *kwargs.values()))
            if len(owner) + added > MAX_TEXT:
                raise Runaway(f"a list, set or dict grown by {name} would hold more than "
                              f"{MAX_TEXT} items")
        elif name == "strftime" and isinstance(owner, _DATES):
            # each directive grows in C (`%c` is 24 characters): measured once made, at C's
            # speed, and dropped before anything else sees it
            made = super().call(__context, __obj, *args, **kwargs)
            if isinstance(made, str) and len(made) > MAX_TEXT:
                raise Runaway(f"strftime would make a text longer than {MAX_TEXT} characters")
            return made
        return super().call(__context, __obj, *args, **kwargs)

    def wrap_str_format(self, value):
        """`'{:>9}'.format(x)`: Jinja's sandboxed format, with its widths and size bounded."""
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None

        def bounded(*args, **kwargs):
            if value.__name__ == "format_map":
                kwargs = args[0] if args and isinstance(args[0], Mapping) else {}
                _format_widths(value.__self__, (), kwargs, braces=True)
                _formatted(value.__self__, (), kwargs, braces=True)
                return wrapped(*args)
            _format_widths(value.__self__, args, kwargs, braces=True)
            _formatted(value.__self__, args, kwargs, braces=True)
            return wrapped(*args, **kwargs)

        return bounded


_TEXTS = (str, bytes, bytearray)
_DATES = (datetime.date, datetime.time)  # a datetime is a date
_SEQUENCES = _TEXTS + (list, tuple)
_GROWING = (list, set, dict)
_GROWS = {"append", "extend", "insert", "add", "update", "setdefault"}
_GROWS_BY_MANY = {"extend", "update"}


def size(value, limit: int = MAX_TEXT) -> int:
    """About how many characters `str(value)` would make, counted (not made) until the count
    passes `limit`: a list of a thousand long texts is measured without being printed. Each
    reference counts, as `str()` prints each: `[x] * 400` is 400 times `x`. (A list that holds
    itself prints short, as `[[...]]`, but counts past any limit here: no template needs one.)"""
    if isinstance(value, _TEXTS):
        return len(value)
    total, stack = 0, [value]
    while stack and total <= limit:
        item = stack.pop()
        if isinstance(item, _TEXTS):
            total += len(item) + 4  # quotes, a comma and a space
        elif _int(item):
            total += item.bit_length() // 3 + 2
        elif isinstance(item, Namespace):
            total += 2
            stack.append(dict(getattr(item, "_Namespace__attrs", {})))
        elif isinstance(item, (Mapping, list, tuple, set, frozenset)) or \
                type(item).__name__ in ("dict_keys", "dict_values", "dict_items"):
            total += 2 + 2 * len(item)
            stack.extend(item.items() if isinstance(item, Mapping) else item)
        else:  # a date, a number, a range, an object of the context: a short text
            total += 24
    return total


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


_PERCENT_FIELD = re.compile(r"%(?:\(([^)]*)\))?[-#0 +]*(\*|\d*)(?:\.(\*|\d*))?([a-zA-Z%]?)")


def _formatted(text, args, kwargs=None, braces: bool = False) -> None:
    """A `%` or `{}` format that would make a text past MAX_TEXT of the values it is given (a
    value that several fields use counts each time; `!r` may print a character as ten)."""
    if isinstance(text, (bytes, bytearray)):
        text = text.decode("latin-1")
    fields = _braced(text, args, kwargs or {}) if braces else _percent(text, args)
    made = len(text)
    for value, factor, width in fields:
        made += max(width, size(value) * factor)
        if made > MAX_TEXT:
            raise Runaway(f"the format {text[:40]!r} would make a text longer than {MAX_TEXT} "
                          "characters")


def _percent(text: str, args):
    """(value, factor, width) of each field of `text % args`."""
    mapping = args if isinstance(args, Mapping) else None
    values = iter(() if mapping is not None else args)
    for key, width, precision, kind in _PERCENT_FIELD.findall(text):
        if kind == "%":
            continue
        widest = 0
        for part in (width, precision):
            given = next(values, 0) if part == "*" else int(part) if part.isdigit() else 0
            widest = max(widest, given if _int(given) else 0)
        if mapping is not None:
            value = mapping.get(key, "") if key else mapping
        else:
            value = next(values, "")
        yield value, 10 if kind in ("r", "a") else 1, widest


def _braced(text: str, args, kwargs):
    """(value, factor, width) of each field of `text.format(*args, **kwargs)`."""
    try:
        parsed = list(Formatter().parse(text))
    except ValueError:
        return  # str.format says what is wrong with it
    auto = 0
    for _, field, spec, conversion in parsed:
        if field is None:
            continue
        head = re.split(r"[.\[]", field, maxsplit=1)[0]
        if not head:
            head, auto = str(auto), auto + 1
        if head.isdigit():
            value = args[int(head)] if int(head) < len(args) else ""
        else:
            value = kwargs.get(head, "")
        widest = max((int(n) for n in re.findall(r"\d+", spec or "")), default=0)
        yield value, 10 if conversion in ("r", "a") else 1, widest


def _grown(name: str, text: str, args, kwargs) -> None:
    """What `replace`, `expandtabs`, `translate` or the `indent` or `wordwrap` filter would
    make of `text`, by its length: within MAX_TEXT, or a Runaway before it is built."""
    if name == "replace":
        given = list(args[:2]) + [kwargs.get(key) for key in ("old", "new")[len(args[:2]):]]
        old, new = given
        if not isinstance(old, type(text)) or not isinstance(new, type(text)):
            return
        times = text.count(old) if old else len(text) + 1
        limit = args[2] if len(args) > 2 else kwargs.get("count")
        if _int(limit) and limit >= 0:
            times = min(times, limit)
        made = len(text) + times * (len(new) - len(old))
    elif name == "expandtabs":
        tabsize = args[0] if args else kwargs.get("tabsize", 8)
        made = len(text) + text.count("\t") * (tabsize if _int(tabsize) else 8)
    elif name == "translate":  # each character may become a text of the table's
        table = args[0] if args else None
        longest = max((size(v) for v in table.values()), default=1) \
            if isinstance(table, Mapping) else 1
        made = len(text) * max(longest, 1)
    elif name == "wordwrap":  # a wrapstring a line
        width = args[0] if args else kwargs.get("width", 79)
        wrap = args[2] if len(args) > 2 else kwargs.get("wrapstring")
        lines = len(text) // max(width if _int(width) else 79, 1) + text.count("\n") + 1
        made = len(text) + lines * (len(wrap) if isinstance(wrap, str) else 2)
    else:  # indent
        width = args[0] if args else kwargs.get("width", 4)
        made = len(text) + (text.count("\n") + 1) * (len(width) if isinstance(width, str)
                                                     else width if _int(width) else 0)
    if made > MAX_TEXT:
        raise Runaway(f"{name} would make a text longer than {MAX_TEXT} characters")


def _joined(separator, items) -> list:
    """The items of a join, once their joined length is known to stay within MAX_TEXT."""
    items = list(items) if not isinstance(items, (list, tuple)) else items
    made = len(separator) * max(len(items) - 1, 0)
    for item in items:
        made += size(item)
        if made > MAX_TEXT:
            raise Runaway(f"a join would make a text longer than {MAX_TEXT} characters")
    return items


def _bounded(join):
    def concat(parts) -> str:
        """`a ~ b`, no longer than MAX_TEXT characters (a list among them counted as printed,
        before it is)."""
        made = 0
        for part in parts:
            made += size(part)
            if made > MAX_TEXT:
                raise Runaway(f"a text joined by ~ would be longer than {MAX_TEXT} characters")
        return join(parts)

    return concat


class _BoundedCode(CodeGenerator):
    """Jinja's code generator, with `~` bounded: it compiles to a join of its parts (Jinja's
    own, Markup's in an HTML twin), whose length is checked first; and with nothing of the
    template run while it is compiled (see visit_EvalContextModifier)."""

    def visit_EvalContextModifier(self, node, frame):
        """`{% autoescape EXPR %}`: Jinja works out EXPR when it compiles the template, even
        under `{% if false %}`, out of the deadline's and the memory ceiling's reach (`check`
        compiles with neither). Here only a constant is; anything else is left to run time,
        the eval context volatile, as Jinja leaves it when it cannot tell."""
        for keyword in node.options:
            self.writeline(f"context.eval_ctx.{keyword.key} = ")
            self.visit(keyword.value, frame)
            if isinstance(keyword.value, nodes.Const):
                setattr(frame.eval_ctx, keyword.key, keyword.value.value)
            else:
                frame.eval_ctx.volatile = True

    def visit_Concat(self, node, frame):
        if frame.eval_ctx.volatile:  # autoescape known at run time only: asked then
            self.write("(environment.concat_markup if context.eval_ctx.autoescape else "
                       "environment.concat_text)((")
        else:
            self.write(f"environment.concat_{'markup' if frame.eval_ctx.autoescape else 'text'}((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


class _Reading(_BoundedCode):
    """The code generator that also keeps the names a template reads from the context, as
    Jinja's `meta.TrackingCodeGenerator` does (Jinja's documented extension point)."""

    def __init__(self, *args):
        super().__init__(*args)
        self.names = set()

    def enter_frame(self, frame):
        super().enter_frame(frame)
        for action, param in frame.symbols.loads.values():
            if action == "resolve" and param not in self.environment.globals:
                self.names.add(param)


def _beyond_python(err, tree, name, filename) -> TemplateSyntaxError:
    """Python refused the code Jinja wrote (`too many statically nested blocks`): a template
    error at the line where the template nests deepest."""
    reason = err.msg if isinstance(err, SyntaxError) else "too deep to compile"
    return TemplateSyntaxError(too_deep_for_python(reason), deepest_line(tree), name, filename)


def _join_filter(real):
    def bounded(eval_ctx, value, d="", attribute=None):
        items = list(value)
        _joined(d, items)  # an item's size holds its attribute's
        return real(eval_ctx, items, d, attribute)

    bounded.jinja_pass_arg = real.jinja_pass_arg
    return bounded


def _format_filter(real):
    def bounded(value, *args, **kwargs):
        _sized("format", value)
        _format_widths(str(value), args, kwargs)
        _formatted(str(value), kwargs or args)
        return real(value, *args, **kwargs)

    return bounded


def _sized(what: str, value) -> None:
    if size(value) > MAX_TEXT:
        raise Runaway(f"{what} would make a text longer than {MAX_TEXT} characters")


@pass_eval_context  # so that Jinja does not run it on constants when it compiles a template
def _printed(eval_ctx, value):
    """`{{ value }}` (Jinja's `finalize`): a list or dict is measured before it is printed; a
    function or method is refused: what it prints holds a memory address, which differs from
    run to run (SPEC 8: the same files give the same bytes)."""
    if type(value) is not str:
        if callable(value) and not isinstance(value, (Undefined, Macro)):
            raise SecurityError("printing a function or method (such as `name.upper`) would "
                                "put a memory address in the draft: call it, as `name.upper()`")
        _sized("printing this value", value)
    return value


def _gathered(parts) -> str:
    """What a block, a macro or a `{% set %}` block gathers: no longer than a draft."""
    kept, made = [], 0
    for part in parts:
        made += len(part)
        if made > MAX_OUTPUT:
            raise Runaway(f"a block would be longer than {MAX_OUTPUT} characters")
        kept.append(part)
    return "".join(kept)


def _round_filter(real):
    def bounded(value, precision=0, method="common"):
        if _int(precision) and abs(precision) > 1000:  # 10 ** precision, in one C call
            raise Runaway(f"round({precision}) asks for more than 1000 digits")
        return real(value, precision, method)

    return bounded


def _sum_filter(real):
    """The `sum` of texts or lists: each part is copied again at each step (in C, out of the
    deadline's reach), so the parts and their total are bounded first."""
    def bounded(environment, iterable, attribute=None, start=0):
        values = list(iterable)
        if attribute is not None:
            from jinja2.filters import make_attrgetter

            values = [make_attrgetter(environment, attribute)(v) for v in values]
        if isinstance(start, _SEQUENCES) or any(isinstance(v, _SEQUENCES) for v in values):
            total = (len(start) if isinstance(start, _SEQUENCES) else 0) + sum(
                len(v) for v in values if isinstance(v, _SEQUENCES))
            if total > MAX_TEXT or total * len(values) > 50 * MAX_TEXT:
                raise Runaway(f"a sum of {len(values)} texts or lists would copy more than "
                              f"{50 * MAX_TEXT} items")
        return real(environment, values, start=start)

    bounded.jinja_pass_arg = real.jinja_pass_arg
    return bounded


def _int_filter(real):
    def bounded(value, *args, **kwargs):
        number = real(value, *args, **kwargs)  # reading digits is quick; what follows is not
        if _int(number) and number.bit_length() > MAX_BITS:
            raise Runaway(f"the int filter made too large a number (more than {MAX_BITS} bits)")
        return number

    return bounded


def _lipsum(real):
    def bounded(n=5, html=True, min=20, max=100):  # noqa: A002 (Jinja's names)
        if _int(n) and _int(max) and n * max * 12 > MAX_TEXT:
            raise Runaway(f"lipsum({n}, max={max}) would make a text longer than {MAX_TEXT} "
                          "characters")
        return real(n, html, min, max)

    return bounded


def _checked(real, name: str, check):
    """The filter `real` with `check(value, *arguments, **keywords)` run first; `value` is the
    filtered value, after the eval context or environment Jinja passes to some filters."""
    skip = 1 if hasattr(real, "jinja_pass_arg") else 0

    def bounded(*args, **kwargs):
        if len(args) > skip:
            check(*args[skip:], **kwargs)
        return real(*args, **kwargs)

    bounded.__name__ = name
    if skip:
        bounded.jinja_pass_arg = real.jinja_pass_arg
    return bounded


def _counted(name: str, keyword: str):
    """`batch(n, fill)` and `slice(n, fill)`: at most MAX_TEXT pieces or fills."""
    def check(value, *args, **kwargs):
        count = args[0] if args else kwargs.get(keyword)
        if _int(count) and count > MAX_TEXT:
            raise Runaway(f"{name}({count}) would make more than {MAX_TEXT} items")

    return check


def bound(env: SandboxedEnvironment) -> SandboxedEnvironment:
    """`env` with the filters that can grow a text bounded, and `~` checked."""
    def check(name, test):
        env.filters[name] = _checked(env.filters[name], name, test)

    for name in _PADDING_FILTERS:
        check(name, lambda value, *args, name=name, **kwargs: _widths(name, args, kwargs))
    env.filters["join"] = _join_filter(env.filters["join"])
    for name in ("indent", "replace", "wordwrap"):
        check(name, lambda value, *args, name=name, **kwargs:
              _grown(name, value, args, kwargs) if isinstance(value, str) else None)
    for name in _SIZED_FILTERS:  # after the two above: a list through `indent` is measured
        check(name, lambda value, *args, name=name, **kwargs: _sized(f"the {name} filter",
                                                                     value))
    env.filters["format"] = _format_filter(env.filters["format"])
    env.concat_text, env.concat_markup = _bounded(str_join), _bounded(markup_join)
    env.concat, env.finalize = _gathered, _printed
    env.globals["lipsum"] = _lipsum(env.globals["lipsum"])
    env.filters["round"] = _round_filter(env.filters["round"])
    env.filters["int"] = _int_filter(env.filters["int"])
    env.filters["sum"] = _sum_filter(env.filters["sum"])
    for name, keyword in (("batch", "linecount"), ("slice", "slices")):
        check(name, _counted(name, keyword))
    return env
