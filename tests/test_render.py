"""Drafts: .eml that mail clients read, call sheets, letters, and template errors."""
from __future__ import annotations

import email
import email.policy
import os
from datetime import date

import pytest

from cadence.model import Failure, If, Touch
from cadence.lookup import safe_name
from cadence.sandbox import check_expr, condition
from helpers import make_renderer
from helpers import build_tree, contact, playbook

PB = playbook("""
    phases:
      - name: decide
        steps:
          - {at: 1 day, channel: email, template: hello}
""")
SENDER = {"name": "Eva Konsult", "email": "eva@konsult.example", "phone": "+4670",
          "address": "Eva AB\nGatan 1\n111 22 Stockholm"}
TODAY = date(2026, 11, 23)


def touch(channel="email", template="hello", step="decide-1", reason="step", time="", detail=""):
    return Touch("c1", "x", "p", "decide", step, channel, template, TODAY, 0, reason, 1,
                 detail=detail, time=time)


def renderer(tmp_path, files, tz="Europe/Stockholm"):
    build_tree(tmp_path / "templates", files)
    return make_renderer(str(tmp_path / "templates"), SENDER, tz)


def parse(data: bytes):
    return email.message_from_bytes(data, policy=email.policy.default)


@pytest.mark.parametrize("name,subject", [
    ("Борис Петров", "Спасибо, Борис Петров"),
    ("Åsa Öberg", "Tack, Åsa Öberg"),
    ("Ann Lind", "Thanks, Ann Lind"),
])
def test_email_headers_and_body(tmp_path, name, subject):
    word = subject.split(",")[0]
    r = renderer(tmp_path, {"hello.j2": f"Subject: {word}, {{{{ contact.name }}}}\n\n"
                                        "Hej {{ contact.name }}!\nÅäö, привет.\n"})
    draft = r.draft(touch(), contact(name=name), PB, (), TODAY)
    assert draft.name == "c1--decide-1.eml"
    message = parse(draft.data)
    assert message["Subject"] == subject
    assert message["To"].addresses[0].display_name == name
    assert message["To"].addresses[0].addr_spec == "ann@example.com"
    assert message["From"].addresses[0].addr_spec == "eva@konsult.example"
    assert message["Date"] == "Mon, 23 Nov 2026 09:00:00 +0100"
    assert message["X-Cadence-Contact"] == "c1"
    assert message["X-Cadence-Step"] == "decide-1"
    assert message["Message-ID"].endswith("@konsult.example>")
    assert message.get_content() == f"Hej {name}!\r\nÅäö, привет.\r\n" or \
        message.get_content().replace("\r\n", "\n") == f"Hej {name}!\nÅäö, привет.\n"
    assert draft.data.isascii() is False or "=?utf-8?" in draft.data.decode("ascii")


def test_email_is_deterministic_and_utc_without_timezone(tmp_path):
    r = renderer(tmp_path, {"hello.j2": "Subject: Hi\n\nBody\n"}, tz="")
    one = r.draft(touch(), contact(), PB, (), TODAY).data
    two = r.draft(touch(), contact(), PB, (), TODAY).data
    assert one == two
    assert parse(one)["Date"] == "Mon, 23 Nov 2026 09:00:00 +0000"


def test_line_breaks_in_ledger_data_never_become_headers(tmp_path):
    r = renderer(tmp_path, {"hello.j2": "Subject: Hi {{ contact.name }}\n\nBody\n"})
    evil = contact(name="Ann\r\nBcc: victim@example.com")
    message = parse(r.draft(touch(), evil, PB, (), TODAY).data)
    assert message["Bcc"] is None
    assert message["Subject"] == "Hi Ann Bcc: victim@example.com"
    assert "victim" not in message.get_content()


def test_email_template_needs_a_subject(tmp_path):
    r = renderer(tmp_path, {"hello.j2": "Hello\n"})
    with pytest.raises(Failure) as err:
        r.draft(touch(), contact(), PB, (), TODAY)
    assert "begins with a `Subject: ...` line (contact c1, step decide-1)" in str(err.value)
    assert err.value.code == 78


def test_a_template_saved_with_a_byte_order_mark_reads_as_its_text(tmp_path):
    """SPEC 6: "An email template begins with a `Subject: ...` line": so does one saved as
    "UTF-8 with BOM" (Windows Notepad), whose mark is no text of the draft."""
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "hello.j2").write_bytes("\ufeffSubject: Hej\n\nBody\n".encode())
    (tmp_path / "templates" / "hello.call.j2").write_bytes("\ufeffAsk about it\n".encode())
    r = renderer(tmp_path, {})
    message = parse(r.draft(touch(), contact(), PB, (), TODAY).data)
    assert message["Subject"] == "Hej" and message.get_content().strip() == "Body"
    sheet = r.draft(touch("call"), contact(), PB, (), TODAY).data.decode()
    assert "\ufeff" not in sheet and "Ask about it" in sheet


def test_channel_variant_first(tmp_path):
    r = renderer(tmp_path, {"hello.j2": "Subject: generic\n\nx\n",
                            "hello.call.j2": "Ask about {{ contact.name }}\n"})
    sheet = r.draft(touch("call"), contact(), PB, (), TODAY)
    assert sheet.name == "c1--decide-1.md"
    assert "Ask about Ann Lind" in sheet.data.decode()
    assert parse(r.draft(touch(), contact(), PB, (), TODAY).data)["Subject"] == "generic"


def test_call_sheet_shows_phone_time_and_last_topics(tmp_path):
    from helpers import journal

    r = renderer(tmp_path, {"callback.j2": "Call back as agreed.\n"})
    history = journal("""
        2026-11-10,c1,touch,p,decide-1,email,hello,
        2026-11-20,c1,touch,p,decide-2,call,q,asked for prices; call back Monday 14:30
    """)["c1"]
    text = r.draft(touch("call", "callback", "callback", "callback", "14:30",
                         "call-back agreed for 2026-11-23 at 14:30"),
                   contact(), PB, history, TODAY).data.decode()
    assert "- Phone: +46701234567" in text
    assert "- When: 2026-11-23 at 14:30" in text
    assert "- Why: call-back agreed for 2026-11-23 at 14:30" in text
    assert "asked for prices; call back Monday 14:30" in text
    assert text.rstrip().endswith("Call back as agreed.")


def test_call_sheet_topics_leave_out_what_cadence_wrote(tmp_path):
    """The reasons cadence gave its own touches are not topics of a conversation."""
    from helpers import journal

    r = renderer(tmp_path, {"callback.j2": "Call back as agreed.\n"})
    history = journal("""
        2026-11-10,c1,touch,p,decide-1,email,hello,
        2026-11-12,c1,touch,p,no_reply,letter,n,the email of 2026-11-10 bounced on 2026-11-11; by letter instead of call
        2026-11-17,c1,touch,p,no_reply,call,n,no reply since 2026-11-12 (letter); no_reply rule 2
        2026-11-20,c1,touch,p,decide-2,call,q,asked for prices
        2026-11-21,c1,touch,p,,call,,by phone instead of email
    """)["c1"]
    text = r.draft(touch("call", "callback", "callback", "callback", "",
                         "call-back agreed for 2026-11-23"),
                   contact(), PB, history, TODAY).data.decode()
    assert "asked for prices" in text and "by phone instead of email" in text
    assert "bounced" not in text and "no reply since" not in text
    assert "by letter instead of call" not in text and "rule 2" not in text


def test_letter_has_both_address_blocks(tmp_path):
    r = renderer(tmp_path, {"offer.j2": "Dear {{ contact.name }},\n\nthe offer.\n"})
    text = r.draft(touch("letter", "offer"), contact(address="Kungsgatan 5\n411 19 Göteborg"),
                   PB, (), TODAY).data.decode()
    assert text.startswith("Eva Konsult  \nEva AB  \nGatan 1  \n111 22 Stockholm\n\nAnn Lind  \n"
                           "Kungsgatan 5  \n411 19 Göteborg\n\n2026-11-23\n\nDear Ann Lind,")


def test_undefined_variable_names_template_line_and_contact(tmp_path):
    r = renderer(tmp_path, {"hello.j2": "Subject: Hi\n\nline two\n{{ contact.nickname }}\n"})
    with pytest.raises(Failure) as err:
        r.draft(touch(), contact(), PB, (), TODAY)
    text = str(err.value)
    assert "hello.j2:4:" in text and "nickname" in text and "(contact c1, step decide-1)" in text


def test_syntax_error_names_the_line(tmp_path):
    r = renderer(tmp_path, {"hello.j2": "Subject: Hi\n\n{% if %}\n"})
    with pytest.raises(Failure) as err:
        r.draft(touch(), contact(), PB, (), TODAY)
    assert "hello.j2:3:" in str(err.value)


@pytest.mark.parametrize("expr", [
    "{{ contact.__class__.__mro__[1].__subclasses__() }}",
    "{{ ''.__class__.__mro__ }}",
    "{{ touch.__class__.__init__.__globals__ }}",
])
def test_sandbox_refuses_escapes(tmp_path, expr):
    r = renderer(tmp_path, {"hello.j2": f"Subject: Hi\n\n{expr}\n"})
    with pytest.raises(Failure) as err:
        r.draft(touch(), contact(), PB, (), TODAY)
    assert err.value.code == 78


@pytest.mark.parametrize("expr", ["{{ contact.name.upper }}", "{{ contact.name.format_map }}",
                                  "{% set f = contact.name.split %}{{ f }}"])
def test_printing_a_method_is_refused_with_its_line(tmp_path, expr):
    """SPEC 8: what a function or method prints holds a memory address, different on every
    run: refused (78) with the template's line, never written into a draft."""
    r = renderer(tmp_path, {"hello.j2": f"Subject: Hi\n\nHej\n{expr}\n"})
    with pytest.raises(Failure) as err:
        r.draft(touch(), contact(), PB, (), TODAY)
    problem = err.value.problems[0]
    assert err.value.code == 78 and problem.source.line == 4
    assert "printing a function or method" in problem.message


def test_a_macro_and_a_called_method_print_as_before(tmp_path):
    r = renderer(tmp_path, {"hello.j2": "Subject: Hi\n\n{% macro m() %}x{% endmacro %}"
                                         "{{ m() }} {{ contact.name.upper() }}\n"})
    assert "x ANN" in parse(r.draft(touch(), contact(name="Ann"), PB, (), TODAY).data).get_content()


def test_contact_data_is_not_a_template(tmp_path):
    r = renderer(tmp_path, {"hello.j2": "Subject: Hi\n\n{{ contact.name }}\n"})
    message = parse(r.draft(touch(), contact(name="{{7*7}}"), PB, (), TODAY).data)
    assert "{{7*7}}" in message.get_content()


def test_symlink_outside_templates_is_not_a_template(tmp_path):
    (tmp_path / "secret.txt").write_text("Subject: secret\n\nsecret\n")
    os.makedirs(tmp_path / "templates")
    os.symlink(tmp_path / "secret.txt", tmp_path / "templates" / "hello.j2")
    r = make_renderer(str(tmp_path / "templates"), SENDER)
    assert "hello" not in r.names
    with pytest.raises(Failure):
        r.draft(touch(), contact(), PB, (), TODAY)


@pytest.mark.parametrize("text", ["../../x", "CON", "a/b", "", "x" * 300, ".hidden", "ок"])
def test_safe_names_stay_in_the_folder_and_distinct(text):
    name = safe_name(text)
    assert "/" not in name and "\\" not in name and not name.startswith(".")
    assert name and len(name) <= 80
    assert name.split(".")[0].lower() not in ("con", "prn", "aux", "nul")


def test_safe_names_distinct():
    ids = ["a/b", "a_b", "a?b", "../a_b", "A_B"]
    assert len({safe_name(i) for i in ids}) == len(ids)


SAFE_NAMES = [
    # (id, its name part) -- README, drafts: a part that had to change or could meet another on
    # some disk gets eight hex digits of the id's hash
    ("ann", "ann"),
    ("decide-1", "decide-1"),
    ("Ann", "Ann-17239b6e"),  # capitals: `Ann` and `ann` are one file on macOS and Windows
    ("a/b", "a_b-c14cddc0"),  # characters that could leave the folder
    ("a--b", "a--b-90827a2e"),  # the separator of contact and step
    ("con", "con-1143da2b"),  # a name Windows reserves
    ("x" * 70, "x" * 60 + "-c71bd109"),  # cut at 60 characters
]


@pytest.mark.parametrize("text, name", SAFE_NAMES)
def test_a_name_part_gets_a_hash_where_the_readme_says(text, name):
    assert safe_name(text) == name


def test_if_condition_reads_missing_columns_as_empty(tmp_path):
    r = renderer(tmp_path, {})
    holds = condition(r.env)
    rule = If("(contact.age or 0) | int >= 50", "letter")
    assert holds(rule, contact(age="61"))
    assert not holds(rule, contact(age="41"))
    assert not holds(rule, contact())
    assert check_expr(r.env, "contact.age >=") is not None
    assert check_expr(r.env, "contact.age | int >= 50") is None


def test_if_answers_are_remembered_by_the_columns_read(tmp_path):
    from cadence.sandbox import columns_read as _columns_read

    r = renderer(tmp_path, {})
    assert _columns_read(r.env, "(contact.age or 0) | int >= 50") == ("age",)
    assert _columns_read(r.env, "contact['city'] == 'Lund' and contact.age") == ("age", "city")
    assert _columns_read(r.env, "contact | length > 3") is None
    assert _columns_read(r.env, "contact[key] == 1") is None
    holds = condition(r.env)
    rule = If("contact.city == 'Lund'", "letter")
    assert holds(rule, contact(city="Lund", age="1"))
    assert holds(rule, contact(id="c2", city="Lund", age="2"))  # remembered: same city
    assert not holds(rule, contact(id="c3", city="Malmö"))
    whole = If("contact | length > 100", "letter")
    assert not holds(whole, contact())
    # `contact.get('vip')` reads the column vip, not one named `get`
    assert _columns_read(r.env, "contact.get('vip') == 'yes'") == ("vip",)
    assert _columns_read(r.env, "contact.get('vip', 'no') == contact.age") == ("age", "vip")
    assert _columns_read(r.env, "contact.items() | list") is None
    assert _columns_read(r.env, "contact.get(key) == 1") is None
    vip = If("contact.get('vip') == 'yes'", "letter")
    assert holds(vip, contact(vip="yes")) and not holds(vip, contact(id="c4", vip="no"))


@pytest.mark.parametrize("expr", ["{{ 1 // 0 }}", "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}"])
def test_runtime_errors_in_templates_name_the_template(tmp_path, expr):
    r = renderer(tmp_path, {"hello.j2": f"Subject: Hi\n\n{expr}\n"})
    with pytest.raises(Failure) as err:
        r.draft(touch(), contact(), PB, (), TODAY)
    assert err.value.code == 78 and "hello.j2:3" in str(err.value)


def test_draft_names_cannot_meet_at_the_separator():
    from cadence.lookup import draft_name

    assert draft_name("a--b", "c", "email") != draft_name("a", "b--c", "email")


def test_a_template_that_runs_out_of_memory_is_named_with_its_line(tmp_path):
    """A template that allocates in a way no bound of the sandbox foresaw: MemoryError is a
    template error (78) at its line, not an internal one."""
    r = renderer(tmp_path, {"hello.j2": "Subject: Hi\n\n{{ contact.name.upper() }}\n"})
    r.env.globals["boom"] = None

    def exhaust(*args, **kwargs):
        raise MemoryError

    r.env.call = exhaust  # every call in the template runs out of memory
    with pytest.raises(Failure) as err:
        r.draft(touch(), contact(), PB, (), TODAY)
    assert err.value.code == 78
    assert "hello.j2:3: the template needs more memory than there is" in str(err.value)


def test_a_template_that_keeps_many_texts_meets_the_memory_ceiling(tmp_path):
    """README "Templates are bounded": each text below the bound, a thousand of them kept in a
    list: the ceiling of one draft's rendering (book.RENDER_MEMORY) stops it, a template
    error at its line, and the process's own limit is put back."""
    import resource

    from cadence.guard import Guard

    before = resource.getrlimit(resource.RLIMIT_AS)
    r = renderer(tmp_path, {"hello.j2": "Subject: Hi\n\n{% set s = 'a' * 999990 %}"
                            "{% set l = [] %}{% for i in range(2000) %}"
                            "{% set _ = l.append(s ~ i) %}{% endfor %}{{ l | length }}\n"})
    r.guard = Guard()
    with pytest.raises(Failure) as err:
        r.draft(touch(), contact(), PB, (), TODAY)
    assert "hello.j2:3: the template needs more memory than there is" in str(err.value)
    assert resource.getrlimit(resource.RLIMIT_AS) == before


def test_a_deadline_that_comes_as_the_rendering_ends_is_a_template_error(tmp_path):
    """The timer's signal can land in the guard's own exit, after the template finished: it
    is the template's error (78), not a traceback; and each rendering has its own guard
    state, so that one within another puts the process's memory limit back."""
    import resource

    from cadence.guard import Guard
    from cadence.model import Overtime

    class Late:
        def __enter__(self):
            return self

        def __exit__(self, *error):
            raise Overtime("ran for more than 0.2 seconds")

    r = renderer(tmp_path, {"hello.j2": "Subject: Hi\n\nHello\n"})
    r.guard = Late
    with pytest.raises(Failure) as err:
        r.draft(touch(), contact(), PB, (), TODAY)
    assert err.value.code == 78 and "hello.j2" in str(err.value)
    assert "ran for more than 0.2 seconds" in str(err.value)
    before, guard = resource.getrlimit(resource.RLIMIT_AS), Guard()
    with guard():
        with guard():
            assert resource.getrlimit(resource.RLIMIT_AS) != before
    assert resource.getrlimit(resource.RLIMIT_AS) == before


def test_no_template_expression_runs_when_it_is_compiled(tmp_path):
    """Jinja would work out constant expressions when it compiles a template, out of the
    deadline's reach (its folding catches every Exception): cadence's sandbox does not."""
    r = renderer(tmp_path, {"hello.j2": "Subject: Hi\n\n{% if false %}{{ 1 | probe }}"
                            "{% autoescape (3 | probe) > 0 %}x{% endautoescape %}"
                            "{% endif %}{{ 2 | probe }} {{ [1, 2] }}"
                            "{% autoescape true %}{{ '<b>' }}{% endautoescape %}\n"})
    calls = []
    r.env.filters["probe"] = lambda value: calls.append(value) or value
    assert b"2 [1, 2]&lt;b&gt;" in r.draft(touch(), contact(), PB, (), TODAY).data
    assert calls == [2]


@pytest.mark.parametrize("files, words", [
    ({"hello.j2": "Subject: Hi\n\n{% set d = {'a': 1} %}{% for k in d %}"
      "{% set _ = d.update({k ~ 'x': 1}) %}{% endfor %}\n"}, "hello.j2:3: dictionary changed"),
    ({"hello.j2": "Subject: Hi\n\n{{ 'ab'.encode('utf-16').decode() }}\n"},
     "hello.j2:3: 'utf-8' codec can't decode"),
    ({"hello.j2": "Subject: Hi\n\n{% include 'sig.j2' %}\n", "sig.j2": "Best,\n{% if %}\n"},
     "sig.j2:2: Expected an expression"),
])
def test_a_template_error_names_its_own_file_and_cause(tmp_path, files, words):
    """A dict changed while looped over, a text of the template decoded wrongly, a syntax
    error in an included template: each a template error (78) where it is, not an internal
    error, not 'the template is not UTF-8', not the line of the include."""
    r = renderer(tmp_path, files)
    with pytest.raises(Failure) as err:
        r.draft(touch(), contact(), PB, (), TODAY)
    assert err.value.code == 78 and words in str(err.value)


def test_a_template_out_of_time_is_run_once_a_command(tmp_path):
    """After one contact's draft ran out of time, the template's next contacts get the same
    problem at once instead of their own wait."""
    from cadence.guard import deadline

    calls = []

    def short():
        calls.append(1)
        return deadline(0.2)

    r = renderer(tmp_path, {"hello.j2": "Subject: Hi\n\n{% for i in range(100000) %}"
                            "{% for j in range(100000) %}{% endfor %}{% endfor %}\n"})
    r.guard = short
    for who in ("c1", "c2", "c3"):
        with pytest.raises(Failure) as err:
            r.draft(touch(), contact(id=who), PB, (), TODAY)
        assert f"hello.j2:3: the template ran for more than 0.2 seconds (contact {who}, step" \
            in str(err.value)
    assert len(calls) == 1


def test_after_a_template_out_of_time_no_template_runs_again_that_command(tmp_path):
    """A piece that every template includes runs out of time in the first: the others are
    not run either, each draft failing at once with that problem (the book's lock is held
    one deadline, not one a template)."""
    from cadence.guard import deadline

    calls = []

    def short():
        calls.append(1)
        return deadline(0.2)

    slow = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
    r = renderer(tmp_path, {"hello.j2": "Subject: Hi\n\n{% include '_sig.j2' %}\n",
                            "bye.j2": "Subject: Bye\n\n{% include '_sig.j2' %}\n",
                            "_sig.j2": slow + "\n"})
    r.guard = short
    with pytest.raises(Failure) as err:
        r.draft(touch(template="hello"), contact(), PB, (), TODAY)
    assert "_sig.j2:1: the template ran for more than 0.2 seconds (contact" in str(err.value)
    with pytest.raises(Failure) as err:
        r.draft(touch(template="bye"), contact(), PB, (), TODAY)
    assert str(err.value) == os.path.join(str(tmp_path), "templates", "bye.j2") + \
        ": not run (contact c1, step decide-1): templates/_sig.j2 ran out of time earlier in " \
        "this command"
    assert "seconds" not in str(err.value)  # it did not run: no time of its own to report
    assert len(calls) == 1


BIG = "'x' * 600000"
LONG = "{% set s = 'x' * 1000000 %}"  # a text of the largest size one operation may make
BOUNDS = [
    # (case, template body, the words of the error) -- README: a text past 1,000,000 characters
    # or padding past that width stops the draft (78), whichever way the template asks for it
    ("printf padding", "{{ '%1000000000d' % 1 }}", "asks for a width of 1000000000"),
    ("printf precision", "{{ '%.2000000f' % 1.5 }}", "asks for a width of 2000000"),
    ("printf width from an argument", "{{ '%*d' % (10**9, 1) }}", "asks for a width of"),
    ("a named printf width", "{{ '%(n)2000000d' % {'n': 1} }}", "asks for a width of 2000000"),
    ("str.format padding", "{{ '{:>2000000}'.format(1) }}", "asks for a width of 2000000"),
    ("str.format width from an argument", "{{ '{:>{w}}'.format(1, w=10**9) }}",
     "asks for a width of 1000000000"),
    ("the format filter", "{{ '%2000000s' | format('a') }}", "asks for a width of 2000000"),
    ("str.join", "{{ (" + BIG + ").join(['a', 'b', 'c']) }}", "a join would make a text"),
    ("the join filter", "{{ [" + BIG + ", " + BIG + "] | join }}", "a join would make a text"),
    ("~ doubling", "{% set ns = namespace(s='x') %}{% for i in range(31) %}"
     "{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s | length }}", "a text joined by ~"),
    ("+ doubling", "{% set ns = namespace(s='x') %}{% for i in range(31) %}"
     "{% set ns.s = ns.s + ns.s %}{% endfor %}{{ ns.s | length }}", "joined by + would be longer"),
    ("indent, a width a line", "{{ ('a\\n' * 1000) | indent(1000000) | length }}",
     "indent would make a text"),
    ("str.replace", "{% set s = 'x' * 1000 %}{{ s.replace('x', s).replace('x', s) | length }}",
     "replace would make a text"),
    ("the replace filter", "{{ ('x' * 100000) | replace('x', 'y' * 10000) | length }}",
     "replace would make a text"),
    ("the replace filter, by name", "{{ ('x' * 100000) | replace(old='x', new='y' * 10000) }}",
     "replace would make a text"),
    ("expandtabs", "{{ ('\\t' * 1000).expandtabs(1000000) | length }}",
     "expandtabs would make a text"),
    # each operation is bounded by the size of what it makes, not only by its widths: ten
    # references to one long text are ten long texts once formatted, joined or printed
    ("printf of ten long texts", LONG + "{{ (('%s' * 10) % (s,s,s,s,s,s,s,s,s,s)) | length }}",
     "the format '%s%s%s"),
    ("a named printf field used ten times", LONG + "{{ (('%(a)s' * 10) % {'a': s}) | length }}",
     "the format '%(a)s"),
    ("printf of a list of long texts", LONG + "{{ ('%s' % ([s] * 10,)) | length }}",
     "the format '%s' would make"),
    ("repr makes a text longer", "{% set s = '\\x00' * 200000 %}{{ ('%r' % (s,)) | length }}",
     "the format '%r' would make"),
    ("str.format, one argument ten times", LONG + "{{ ('{0}' * 10).format(s) | length }}",
     "the format '{0}{0}"),
    ("str.format_map", LONG + "{{ ('{a}' * 10).format_map({'a': s}) | length }}",
     "the format '{a}{a}"),
    ("the format filter of ten long texts",
     LONG + "{{ ('%s' * 10) | format(s,s,s,s,s,s,s,s,s,s) | length }}", "the format '%s%s"),
    ("a list printed", LONG + "{{ [s] * 10 }}", "printing this value would make"),
    ("a dict printed", LONG + "{{ {'a': s, 'b': s} }}", "printing this value would make"),
    ("a namespace printed", LONG + "{% set ns = namespace(a=s, b=s) %}{{ ns | string }}",
     "the string filter would make"),
    ("a list joined by ~", LONG + "{{ ([s] * 10) ~ '' }}", "a text joined by ~"),
    ("a list through a text filter", LONG + "{{ ([s] * 10) | upper | length }}",
     "the upper filter would make"),
    ("tojson of a list", LONG + "{{ [s, s] | tojson | length }}", "the tojson filter would make"),
    ("a join of lists", LONG + "{{ [[s] * 10] | join | length }}", "a join would make a text"),
    ("one list printed through many references",
     "{% set x = ['A' * 900000] %}{{ ([x] * 400) | string | length }}",
     "the string filter would make"),
    ("dicts of one long text each", "{% set s = 's' * 400000 %}"
     "{{ {'p': {'a': s}, 'q': {'b': s}, 'r': {'c': s}} | tojson | length }}",
     "the tojson filter would make"),
    ("a join by attribute", LONG + "{{ [{'a': s}, {'a': s}] | join(attribute='a') | length }}",
     "a join would make a text"),
    ("list.extend doubling", "{% set l = [1] %}{% for i in range(27) %}"
     "{% set _ = l.extend(l) %}{% endfor %}{{ l | length }}", "grown by extend would hold"),
    ("dict.update in loops", "{% set d = {} %}{% for i in range(2000) %}"
     "{% set _ = d.update(dict.fromkeys(range(i * 1000, i * 1000 + 1000))) %}{% endfor %}"
     "{{ d | length }}", "grown by update would hold"),
    ("bytes repeated", "{{ ('x'.encode() * 10 ** 8) | length }}", "repeated 100000000 times"),
    ("str.translate to long texts", "{{ ('x' * 1000).translate({120: 'y' * 10000}) | length }}",
     "translate would make a text"),
    ("wordwrap with a long wrapstring",
     "{{ ('x' * 100000) | wordwrap(1, wrapstring='y' * 100) | length }}",
     "wordwrap would make a text"),
    ("a block gathered", LONG + "{% set b %}{% for i in range(9) %}{{ s }}{% endfor %}{% endset %}"
     "{{ b | length }}", "a block would be longer than 5000000"),
    ("a macro's text", LONG + "{% macro m() %}{% for i in range(9) %}{{ s }}{% endfor %}"
     "{% endmacro %}{{ m() | length }}", "a block would be longer than 5000000"),
    ("lipsum", "{{ lipsum(100000, max=1000) | length }}", "lipsum(100000, max=1000) would make"),
    ("a power of three", "{{ 3 ** 100000 }}", "is too large a number"),
    ("strftime's directives grow", "{{ today.strftime('%c' * 400000) | length }}",
     "strftime would make a text longer"),
    ("hex digits read by int", "{{ ('f' * 1000000) | int(base=16) }}", "the int filter made"),
    ("round to a huge precision", "{{ 5 | round(-100000000) }}", "asks for more than 1000"),
    ("batch's fill", "{{ [1] | batch(500000000, 0) | list | length }}", "would make more than"),
    ("batch's fill, by name", "{{ [1] | batch(linecount=500000000, fill_with=0) | list | length }}",
     "batch(500000000) would make"),
    ("slice's pieces, by name", "{{ [1] | slice(slices=500000000) | list | length }}",
     "slice(500000000) would make"),
    ("a sum of lists", "{{ ([[1] * 1000000] * 300) | sum(start=[]) | length }}",
     "a sum of 300 texts or lists"),
]


@pytest.mark.parametrize("case, body, words", BOUNDS, ids=[b[0] for b in BOUNDS])
def test_a_template_cannot_build_a_text_past_the_bound(tmp_path, case, body, words):
    r = renderer(tmp_path, {"hello.j2": f"Subject: Hi\n\n{body}\n"})
    with pytest.raises(Failure) as err:
        r.draft(touch(), contact(), PB, (), TODAY)
    assert err.value.code == 78 and words in str(err.value)
    assert "hello.j2:3:" in str(err.value)


@pytest.mark.parametrize("body, text", [
    ("{{ '%5d|%-4s|%.2f' % (42, 'ab', 3.14159) }}", "   42|ab  |3.14"),
    ("{{ '{:>6}|{:^5}'.format('ab', 'c') }}", "    ab|  c  "),
    ("{{ '%(n)03d' % {'n': 7} }}", "007"),
    ("{{ ', '.join(['a', 'b']) }} {{ ['c', 'd'] | join('-') }} {{ [1, 2] | join }}", "a, b c-d 12"),
    ("{{ 'a' ~ 1 ~ 'b' }} {{ 'x' + 'y' }} {{ [1] + [2] }}", "a1b xy [1, 2]"),
    ("{{ '%s and %s' | format('tea', 'cake') }}", "tea and cake"),
    ("{{ 'a-b-c'.replace('-', '+', 1) }} {{ 'xy' | replace('y', 'z') }} {{ 'a\\tb'.expandtabs(2) }}",
     "a+b-c xz a b"),
    ("{{ 'one\\ntwo' | indent(2) }}", "one\r\n  two"),
    ("{{ ['a', 'b'] }} {{ {'k': 1} }} {{ 'ab' ~ [1] }} {{ [1, [2]] | string }}",
     "['a', 'b'] {'k': 1} ab[1] [1, [2]]"),
    ("{{ '%r|%s' % ('x', [1]) }} {{ '{0}{0}|{k!r}'.format('y', k='z') }} {{ '{a}'.format_map({'a': 2}) }}",
     "'x'|[1] yy|'z' 2"),
    ("{{ 'abc'.translate({97: 'AA'}) }} {{ 'aaa bbb' | wordwrap(3) }} {{ [1, 2] | tojson }}",
     "AAbc aaa\r\nbbb [1, 2]"),
    ("{% set l = [1] %}{% set _ = l.append(2) %}{% set _ = l.extend([3]) %}{{ l }}"
     "{% set d = {} %}{% set _ = d.update({'a': 1}) %} {{ d }}", "[1, 2, 3] {'a': 1}"),
    ("{% set b %}x{{ 1 }}y{% endset %}{{ b }} {{ '<b>' | escape }} {{ 'a b' | urlencode }}",
     "x1y &lt;b&gt; a%20b"),
    ("{{ '42' | int + 1 }} {{ 2 ** 10 }} {{ 3.14159 | round(2) }} {{ [[1], [2]] | sum(start=[]) }}"
     " {{ [1, 2, 3] | batch(2) | list }}", "43 1024 3.14 [1, 2] [[1, 2], [3]]"),
    ("{% autoescape not false %}{{ '<s>' | safe ~ '<x>' }}{% endautoescape %}"
     "{% autoescape 1 == 1 %}{{ '<y>' }}{% endautoescape %}", "<s>&lt;x&gt;&lt;y&gt;"),
    ("{{ range(6) | slice(2) | list }} {{ [1, 2, 3] | batch(linecount=2, fill_with=0) | list }}"
     " {{ range(4) | slice(slices=2) | list }}", "[[0, 1, 2], [3, 4, 5]] [[1, 2], [3, 0]] "
     "[[0, 1], [2, 3]]"),
])
def test_what_templates_ordinarily_do_is_unchanged(tmp_path, body, text):
    r = renderer(tmp_path, {"hello.j2": f"Subject: Hi\n\n{body}\n"})
    data = r.draft(touch(), contact(), PB, (), TODAY).data
    assert text in data.decode("utf-8")


def test_an_html_twin_is_bounded_too(tmp_path):
    """The HTML twin runs with autoescape: Markup's own `~`, bounded the same way."""
    r = renderer(tmp_path, {"hello.j2": "Subject: Hi\n\nHello\n",
                            "hello.html.j2": "{% set ns = namespace(s='<b>') %}"
                            "{% for i in range(31) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}"
                            "{{ ns.s }}\n"})
    with pytest.raises(Failure) as err:
        r.draft(touch(), contact(), PB, (), TODAY)
    assert "a text joined by ~" in str(err.value)
