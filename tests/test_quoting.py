"""common/quoting.py, the one quoting layer for generated shell text: arbitrary strings round-trip
through the real shells (bash, dash, zsh, fish; cmd under Wine), and each PowerShell literal parses
as one single-quoted string with the real grammar (tree-sitter-powershell) and the exact value.

Example counts are small so that the set stays fast; MAMBABOOT_TEST_QUOTING_EXAMPLES=N raises them
for a deliberate longer run (Wine takes a quarter of that, at least its default), as does
MAMBABOOT_FUZZ_PROFILE=deep, which also changes the seed each run and prints it on a failure
(tests/support/fuzzprofile.py)."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import List

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from mambaboot.common import isolation
from mambaboot.common import quoting
from mambaboot.shell.activation import generate, powershell
from tests.support import fuzzprofile, pwsh
from tests.support.wine import read_log, read_set_dump, windows_path
from tests.test_hostile import NAMES

EXAMPLES = fuzzprofile.examples("MAMBABOOT_TEST_QUOTING_EXAMPLES", 8)
# Batches of strings per shell run keep the real shells cheap; a few batches per test.
FEW = fuzzprofile.chosen(max_examples=EXAMPLES)
WINE = fuzzprofile.chosen(max_examples=max(3, EXAMPLES // 4))
# What a name or value may hold that a shell would take as syntax, beside any other character
SYNTAX = st.sampled_from(list("$()`'\"\\%^!&|<>;*?[]{}~#=@ \t\n\r\u00e9\u65e5\u2019\U0001f600")
                         + ["$(touch PWNED)", "`touch PWNED`", "${HOME}", "%PATH%", "!PATH!", "^&", "'\\''"])
ANY_CHAR = st.characters(blacklist_categories=("Cs",), blacklist_characters="\0")
ANY_TEXT = st.lists(ANY_CHAR | SYNTAX, max_size=20).map("".join)
BATCH = st.lists(ANY_TEXT, min_size=1, max_size=25)


def _round_trip(argv: List[str], script: str, tmp: Path, count: int) -> List[str]:
    driver = tmp / "driver"
    driver.write_text(script, encoding="utf-8")
    # A HOME of the test's own: without one fish takes the account's home from the password
    # database and makes ~/.config/fish and ~/.local/share/fish there, --no-config or not.
    home = tmp / "home"
    home.mkdir(exist_ok=True)
    out = subprocess.run([*argv, str(driver)], capture_output=True, timeout=60, cwd=str(tmp),
                         env={"LC_ALL": "C.UTF-8", "PATH": "/usr/bin:/bin", "HOME": str(home)})
    assert out.returncode == 0, out.stderr
    values = out.stdout.decode("utf-8").split("\0")
    assert values[-1] == "" and len(values) == count + 1
    assert sorted(p.name for p in tmp.iterdir()) == ["driver", "home"], "a quoted value ran a command"
    return values[:-1]


POSIX = [["bash", "--norc"], ["dash"], ["zsh", "-f"]]


# Each way a value is written into sh text: a word of its own, arguments of a shown command
SH_FORMS = {
    "word": lambda values: "".join(f"printf '%s\\0' {quoting.sh(v)}\n" for v in values),
    "command line": lambda values: "printf '%s\\0' " + quoting.command_line(values, windows=False) + "\n",
}


@pytest.mark.parametrize("form", sorted(SH_FORMS))
@pytest.mark.parametrize("shell", POSIX, ids=lambda a: a[0])
@fuzzprofile.seeded
@FEW
@given(values=BATCH)
def test_sh_text_round_trips(shell, form, values, tmp_path):
    assert _round_trip(shell, SH_FORMS[form](values), tmp_path, len(values)) == values


@fuzzprofile.seeded
@FEW
@given(values=BATCH)
def test_fish_words_round_trip(values, tmp_path):
    script = "".join(f"printf '%s\\0' {quoting.fish(v)}\n" for v in values)
    assert _round_trip(["fish", "--no-config"], script, tmp_path, len(values)) == values


@pytest.mark.parametrize("quote", [quoting.sh, quoting.fish, quoting.cmd,
                                   quoting.cmd_in_quotes])
def test_a_nul_is_refused(quote):
    with pytest.raises(ValueError):
        quote("a\0b")


# cmd: printable ASCII (a batch file's code page is the console's; Wine's and Windows' differ
# beyond ASCII) with every operator; no empty value, which in cmd means "unset".
CMD_TEXT = st.text(st.characters(min_codepoint=32, max_codepoint=126) | st.sampled_from("\t"), min_size=1, max_size=40)


@fuzzprofile.seeded
@WINE
@example(values=["100% sure", "%PATH%", "a%%b", "%", "50%^&!"])  # % is all that is live inside quotes
@given(values=st.lists(CMD_TEXT, min_size=1, max_size=25))
def test_cmd_quote_round_trips_in_wine(wine, values):
    """Unquoted (`set X=<quoting.cmd>`) and inside quotes (`set "X=<quoting.cmd_in_quotes>"`,
    for text without a double quote), with delayed expansion off."""
    dump = wine.workdir / "quoted.txt"
    in_quotes = [v for v in values if '"' not in v]
    lines = ["@echo off", "setlocal DisableDelayedExpansion"]
    lines += [f"set MB_Q{i}={quoting.cmd(v)}" for i, v in enumerate(values)]
    lines += [f'set "MB_R{i}={quoting.cmd_in_quotes(v)}"' for i, v in enumerate(in_quotes)]
    code, out, err = wine.batch("quote", lines + [f'set > "{windows_path(dump)}"'])
    got = read_set_dump(dump)
    assert [got.get(f"MB_Q{i}") for i in range(len(values))] == values, err
    assert [got.get(f"MB_R{i}") for i in range(len(in_quotes))] == in_quotes, err


@fuzzprofile.seeded
@WINE
@example(values=["%X%", "a %X% b", "%%", "%", "a\\%X\\", "x\\", "\\\\%\\", "^&|<>()!", ""])
@given(values=st.lists(CMD_TEXT.filter(lambda v: '"' not in v) | st.sampled_from(["", "\\", "%", "\\%"]),
                       min_size=1, max_size=12))
def test_cmd_prompt_words_reach_the_program_exactly_in_wine(wine, values, tmp_path_factory):
    """Typed at cmd's prompt, where %X% expands even inside "..." and X is set: each word reaches
    a real Windows program (the stand-in, logging its argv) as exactly the value."""
    tmp = tmp_path_factory.mktemp("prompt")
    shutil.copy(wine.standin, tmp / "argv.exe")
    log = tmp / "log.jsonl"
    line = "argv.exe " + " ".join(quoting.cmd_prompt(v) for v in values)
    wine.typed([line], {"STANDIN_LOG": windows_path(log), "X": "expanded"}, tmp)
    assert [run["argv"][1:] for run in read_log(log)] == [values], line


@pytest.mark.parametrize("bad", ["a\nb", "a\rb", "a\0b"])
def test_cmd_quote_refuses_what_cmd_cannot_hold(bad):
    for quote in (quoting.cmd, quoting.cmd_in_quotes, quoting.cmd_prompt):
        with pytest.raises(ValueError):
            quote(bad)
    for quote in (quoting.cmd_in_quotes, quoting.cmd_prompt):
        with pytest.raises(ValueError):
            quote('a"b')


# Each read differently by cmd's prompt and PowerShell inside "...", or read alike: one of each kind
WINDOWS_VALUES = ["$(x)", "$env:PATH", "a`b", "%PATH%", "it's", "a & b", "C:\\Program Files\\x y", "C:\\plain\\dir",
                  "50% $x `n 'q' & (1) ^ !b", "-r", "-a.b"]


def shown_on_windows(text: str) -> dict:
    """The line for each Windows shell in what command_line shows: the one line, or the two it names."""
    both = re.match(r"`(.*)` in cmd\.exe, `(.*)` in PowerShell", text)
    return {"cmd": both[1], "powershell": both[2]} if both else {"cmd": text, "powershell": text}


@pytest.mark.parametrize("value", WINDOWS_VALUES)
def test_a_suggested_command_parses_in_powershell_with_each_argument_literal(value):
    """The PowerShell line parses (Windows PowerShell 5.1 syntax) with each argument one literal
    holding exactly the value: no variable, no sub-expression, no escape in a "..."."""
    argv = ["mambaboot", "move", value, "C:\\to"]
    assert pwsh.words(shown_on_windows(quoting.command_line(argv, windows=True))["powershell"]) == argv


@fuzzprofile.seeded
@fuzzprofile.chosen(max_examples=10 * EXAMPLES)
@given(values=st.lists(st.text(st.sampled_from("aZ9 $`%'&()\\:.+-_;,{}@#!^\u00e9\u2018\u2019\u201c\u201d"), max_size=8),
                       min_size=1, max_size=5))
def test_any_suggested_command_parses_in_powershell_with_each_argument_literal(values):
    assume("--" not in values)  # PowerShell's end of parameters, passed to a program as typed: no grammar of it here
    argv = ["mambaboot", *values]
    assert pwsh.words(shown_on_windows(quoting.command_line(argv, windows=True))["powershell"]) == argv


def test_a_suggested_command_typed_at_cmds_prompt_reaches_the_program_exactly(wine, tmp_path):
    """Typed at Wine's cmd prompt, where %PATH% expands even inside "...": each value alone, then
    all together, reach a real Windows program (the stand-in, logging its argv) exactly."""
    shutil.copy(wine.standin, tmp_path / "argv.exe")
    log = tmp_path / "log.jsonl"
    runs = [[v] for v in WINDOWS_VALUES] + [WINDOWS_VALUES]
    lines = [shown_on_windows(quoting.command_line(["argv", *values], windows=True))["cmd"] for values in runs]
    wine.typed(lines, {"STANDIN_LOG": windows_path(log)}, tmp_path)
    assert [run["argv"][1:] for run in read_log(log)] == runs, lines


def test_a_suggested_command_stays_one_line_when_both_shells_read_it_alike():
    """Plain words bare, spaces and operators in "...": one line, as before; a line is named for
    each shell only when they differ, and a quoted first word is run with & in PowerShell."""
    assert quoting.command_line(["mambaboot", "move", "C:\\a b", "C:\\c&d"], windows=True) == \
        'mambaboot move "C:\\a b" "C:\\c&d"'
    assert quoting.command_line(["mambaboot", "move", "C:\\a$b"], windows=True, ticks=True, rest=" ...") == \
        '`mambaboot move "C:\\a$b" ...` in cmd.exe, `mambaboot move \'C:\\a$b\' ...` in PowerShell'
    assert shown_on_windows(quoting.command_line(["C:\\a b\\x.exe", "y"], windows=True)) == {
        "cmd": '"C:\\a b\\x.exe" y', "powershell": "& 'C:\\a b\\x.exe' y"}
    with pytest.raises(ValueError):
        quoting.command_line(["mambaboot", "move", "a\0b"], windows=True)


def ps_single_quoted(text: str) -> str:
    """PowerShell's lexer for one single-quoted string literal: any of ' ‘ ’ ‚ ‛ ends it, and
    two of them in a row stand for the second one. Raises ValueError when text is not one literal."""
    quotes = "'\u2018\u2019\u201a\u201b"
    if len(text) < 2 or text[0] not in quotes:
        raise ValueError("not a single-quoted literal")
    out, i = [], 1
    while i < len(text):
        if text[i] in quotes:
            if i + 1 < len(text) and text[i + 1] in quotes:
                out.append(text[i + 1])
                i += 2
                continue
            if i != len(text) - 1:
                raise ValueError("the literal ends before the text does")
            return "".join(out)
        out.append(text[i])
        i += 1
    raise ValueError("unterminated literal")


PS_TEXT = st.lists(ANY_CHAR | SYNTAX | st.sampled_from("'\u2018\u2019\u201a\u201b"), max_size=20).map("".join)


@fuzzprofile.seeded
@fuzzprofile.chosen(max_examples=30 * EXAMPLES)
@given(values=st.lists(PS_TEXT | st.none(), min_size=1, max_size=10))
def test_powershell_values_parse_as_one_literal_each_with_the_exact_value(values):
    """Each value assigned on a line of its own: the real grammar finds one string literal per
    value, exactly where the quoted text is, single-quoted ($null for None), and reading it by
    PowerShell's rules gives the value back."""
    lines, spans, at = [], [], 0
    for i, value in enumerate(values):
        head = f"$v{i} = ".encode()
        quoted = quoting.powershell(value).encode("utf-8")
        spans.append((at + len(head), at + len(head) + len(quoted)))
        lines.append(head + quoted + b"\n")
        at += len(lines[-1])
    tree = pwsh.parse(b"".join(lines))
    literals = [(n.start_byte, n.end_byte) for n in pwsh.walk(tree.root) if n.type == "string_literal"]
    assert literals == [span for span, v in zip(spans, values) if v is not None]
    assert all(start_end in pwsh.single_quoted(tree) for start_end in literals)
    for (start, end), value in zip(spans, values):
        text = tree.source[start:end].decode("utf-8")
        assert (text == "$null") if value is None else (ps_single_quoted(text) == value)


def test_generated_powershell_scripts(made_env, tmp_path):
    """What can be checked without PowerShell: encoding, quoting of every value, structure."""
    from tests.test_activation_posix import _add_environment_data

    prefix = tmp_path / "env"
    (prefix / "conda-meta").mkdir(parents=True)
    _add_environment_data(prefix)
    (prefix / "etc" / "conda" / "activate.d" / "z’s hook.ps1").write_text("$env:MB_PS = 1\n")
    scripts = generate.render(str(prefix), windows=True)
    for name in (".mambaboot/activate.ps1", ".mambaboot/deactivate.ps1", ".mambaboot/vars.ps1"):
        raw = scripts[name]
        assert raw.startswith(b"\xef\xbb\xbf")  # Windows PowerShell 5.1 reads BOM-less files as ANSI
        text = raw.decode("utf-8-sig")
        pwsh.parse(raw)  # no ERROR or MISSING node
        assert str(prefix) not in text
    fragment = scripts[".mambaboot/vars.ps1"].decode("utf-8-sig")
    for value in ("from b, which sorts after a", "it's \"q\" $x `y` \\ z ; & | (p)", "s"):
        assert powershell.quote(value) in fragment
    activate = scripts[".mambaboot/activate.ps1"].decode("utf-8-sig")
    # hooks are listed when activating, sorted by code point (each UTF-16 unit as a number), never baked in
    assert "z’s hook" not in activate
    assert "Sort-Object -Property { -join @(foreach ($c in [char[]]$_.Name) { '{0:D5}' -f [int]$c }) }" in activate
    assert "'CONDA_PREFIX', " in activate and all(f"'{v}'" in activate for v in isolation.CONTAMINATING)
    # condabin's wrappers before Library\\bin's mamba.exe and Scripts' conda.exe, after the prefix's python.exe
    assert "$entries = @($prefix + '', $prefix + '\\condabin', $prefix + '\\Library\\mingw-w64\\bin'" in activate
    assert activate.index("'\\condabin'") < activate.index("'\\Library\\bin'") < activate.index("'\\Scripts'")
    assert "$given = Get-Variable -Name MambabootPrefix -ValueOnly -ErrorAction SilentlyContinue" in activate


def test_activate_ps1_names_the_environments_directory_in_the_prompt(made_env):
    """activate.ps1 as `mambaboot create` wrote it: the prompt takes the last part of the prefix
    the activation line named (a string operation, no provider path rules), not the name
    CONDA_DEFAULT_ENV gets ("base" with the environment's own conda)."""
    raw = (made_env / ".mambaboot" / "activate.ps1").read_bytes()
    source = raw.decode("utf-8-sig")
    code = pwsh.code_only(pwsh.parse(raw))  # literals blanked: what is left runs
    assert "$prefix = Split-Path -Parent $here" in code
    assert "& $setenv 'CONDA_PROMPT_MODIFIER' ('(' + ($prefix -replace '^.*[/]', '') + ') ')" in source
    assert "& $setenv '' ('' + ($prefix -replace '', '') + '')" in code
    assert source.count("'CONDA_PROMPT_MODIFIER'") == 2  # set once; the other is in the list of saved names


# The hostile corpus as directory names (a path component cannot be empty, "." or "..", hold "/"
# or be longer than 255 bytes), plus PowerShell's own quote characters and syntax.
PS_HOSTILE = sorted({n.replace("/", "_") for n in NAMES if n not in ("", ".", "..") and len(n.encode()) < 200}
                    | {"z\u2019s", "m\u2018x\u201b", "a`b$(c)", "@'x'@", "#c", "<#x#>"})


def _only_in_single_quoted_literals(tree: pwsh.Tree, value: str) -> int:
    """How often value occurs in the script, asserting each time it is inside a '...' literal."""
    literals = pwsh.single_quoted(tree)
    inner = powershell.quote(value)[1:-1].encode("utf-8")
    seen, at = 0, tree.source.find(inner)
    while at != -1:
        assert any(start < at and at + len(inner) < end for start, end in literals), \
            f"{value!r} reaches the code outside a single-quoted literal at byte {at}"
        seen, at = seen + 1, tree.source.find(inner, at + 1)
    return seen


@pytest.mark.parametrize("windows", [True, False], ids=["windows", "pwsh"])
def test_every_generated_ps1_parses_and_holds_hostile_text_only_as_literals(tmp_path, windows):
    for n, name in enumerate(PS_HOSTILE):
        if windows and any(ord(c) < 32 or c in '<>:"|?*\\' for c in name):
            continue  # not a file name Windows allows (and cmd cannot hold a line break)
        prefix = tmp_path / str(n) / name
        (prefix / "conda-meta").mkdir(parents=True)
        env_vars = prefix / "etc" / "conda" / "env_vars.d"
        env_vars.mkdir(parents=True)
        (env_vars / f"{name}.json").write_text(json.dumps({"MB_PS": f"<<{name}>>"}))
        scripts = {k: v for k, v in generate.render(str(prefix), windows=windows).items() if k.endswith(".ps1")}
        assert {".mambaboot/activate.ps1", ".mambaboot/deactivate.ps1", ".mambaboot/vars.ps1"} <= set(scripts)
        mentions = 0
        for rel, raw in scripts.items():
            tree = pwsh.parse(raw)
            # the one text handed to Invoke-Expression is vars.ps1, read whole from its file
            assert not {c.lower() for c in pwsh.commands(tree)} & {"iex"}, (name, rel)
            assert pwsh.code_only(tree).count("Invoke-Expression") == pwsh.code_only(tree).count(
                "Invoke-Expression (Get-Content -Raw -LiteralPath $fragment)"), (name, rel)
            assert "scriptblock]::create" not in pwsh.code_only(tree).lower().replace(" ", ""), (name, rel)
            mentions += _only_in_single_quoted_literals(tree, str(prefix))
            mentions += _only_in_single_quoted_literals(tree, f"{name}.json")
            mentions += _only_in_single_quoted_literals(tree, f"<<{name}>>")
        assert mentions, f"{name!r}: the file's name never reached the scripts, so nothing was checked"


@pytest.mark.parametrize("windows", [True, False], ids=["windows", "pwsh"])
def test_vars_ps1_is_written_again_by_the_environments_python(tmp_path, windows):
    """What activate.ps1 does when vars.ps1 is stale (it cannot run here): the same command,
    `python -I -S PREFIX/.mambaboot/envvars.py PREFIX`, writes a fragment that parses and holds
    the new values; activate.ps1 runs it only when $stale is set."""
    prefix = tmp_path / "env"
    (prefix / "conda-meta").mkdir(parents=True)
    (prefix / "conda-meta" / "state").write_text(json.dumps({"env_vars": {"MB_S": "s"}}))
    generate.write(str(prefix), windows=windows)
    fragment = prefix / ".mambaboot" / "vars.ps1"
    old = fragment.read_bytes()
    (prefix / "conda-meta" / "state").write_text(json.dumps({"env_vars": {"MB_S": "t", "MB_NEW": "it's new"}}))
    subprocess.run([sys.executable, "-I", "-S", str(prefix / ".mambaboot" / "envvars.py"), str(prefix)], check=True)
    new = fragment.read_bytes()
    assert new != old and new.startswith(b"\xef\xbb\xbf")
    pwsh.parse(new)
    text = new.decode("utf-8-sig")
    assert "$ownNames = @('MB_S', 'MB_NEW')" in text and "$ownValues = @('t', 'it''s new')" in text
    assert new == generate.render(str(prefix), windows=windows)[".mambaboot/vars.ps1"]
    activate = (prefix / ".mambaboot" / "activate.ps1").read_bytes()
    code = pwsh.code_only(pwsh.parse(activate))
    assert "& $python -I -S (Join-Path $here '') $prefix" in code and b"'envvars.py'" in activate


def test_no_module_quotes_shell_text_but_the_quoting_layer():
    """Every value reaches generated shell text through common/quoting.py: no module quotes by hand
    (a quote or percent sign escaped in place) or with another quoter (shlex, list2cmdline)."""
    import re

    src = Path(quoting.__file__).parents[1]
    by_hand = re.compile(r"""\.replace\(\s*(["'])(?:'|\\'|%)\1|\bshlex\b|\blist2cmdline\b""")
    # Not shell text: a MAMBA_* value libmamba reads as a YAML document (engine/network.yaml_text),
    # in YAML's own single quotes; the engine layer cannot import shell/.
    yaml_quoter = ("engine/network.py", '    return "\'" + value.replace("\'", "\'\'") + "\'"')
    found = [f"{p.relative_to(src)}:{n}" for p in sorted(src.rglob("*.py")) if p.name != "quoting.py"
             for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
             if by_hand.search(line) and (p.relative_to(src).as_posix(), line) != yaml_quoter]
    assert found == []
    assert (src / yaml_quoter[0]).read_text(encoding="utf-8").splitlines().count(yaml_quoter[1]) == 1
    assert by_hand.search("""    return "'" + value.replace("'", "'\\\\''") + "'" """), "the check sees a quoter by hand"


def test_activate_ps1_reads_no_unset_variable_and_refuses_wildcard_brackets_in_51(made_env):
    """A profile's Set-StrictMode applies to a dot-sourced script: reading the unset global that
    marks an active environment would throw, so it is read through Get-Variable. Windows
    PowerShell 5.1 reads a path given to . or & as a wildcard pattern (PowerShell issue 4726)."""
    for name in ("activate.ps1", "deactivate.ps1"):
        code = pwsh.code_only(pwsh.parse((made_env / ".mambaboot" / name).read_bytes()))
        probe = code.index("(Get-Variable -Name _MambabootActive -Scope Global -ValueOnly -ErrorAction SilentlyContinue)")
        later = code.find("$global:_MambabootActive")
        assert later == -1 or probe < later, name  # later reads run only once it is set
    code = pwsh.code_only(pwsh.parse((made_env / ".mambaboot" / "activate.ps1").read_bytes()))
    guard = code.index("if ($PSVersionTable.PSVersion.Major -lt 6 -and $prefix -match '')")
    assert guard < code.index("Get-Content -Raw -LiteralPath $fragment") < code.index("& $python") < code.index(". $hook")


# The types the activation text may name: each is among ConstrainedLanguage mode's allowed types
# (Microsoft Learn, about_Language_Modes); none is used for a method call.
CLM_TYPES = {"char[]", "int", "string", "object[]"}
# Commands ConstrainedLanguage mode refuses or limits to allowed types (about_Language_Modes).
CLM_REFUSED = {"add-type", "new-object", "iex"}


def clm_problems(tree: pwsh.Tree) -> List[str]:
    """What ConstrainedLanguage mode would refuse in this PowerShell: any method call (static or on
    an object), any static member (Type::Name), a type literal outside CLM_TYPES, a command in
    CLM_REFUSED."""
    def text(node):
        return tree.source[node.start_byte:node.end_byte].decode("utf-8")

    found = []
    for node in pwsh.walk(tree.root):
        if node.type == "invokation_expression":
            found.append("method call " + text(node)[:60])
        elif node.type == "member_access" and any(c.type == "::" for c in node.children):
            found.append("static member " + text(node)[:60])
        elif node.type == "type_literal" and text(node)[1:-1].replace(" ", "").lower() not in CLM_TYPES:
            found.append("type " + text(node))
    return found + [f"command {c}" for c in pwsh.commands(tree) if c.lower() in CLM_REFUSED]


def test_the_clm_check_sees_what_constrained_language_refuses():
    bad = pwsh.parse(b"[Environment]::SetEnvironmentVariable('a', 'b')\n$p.Contains(';')\n[IO.Path]::PathSeparator\n"
                     b"[Array]::Sort($n)\n$x = [ordered]@{}\nAdd-Type -TypeDefinition ''\n")
    assert len(clm_problems(bad)) == 9  # three method calls, one static member, four types, Add-Type
    assert clm_problems(pwsh.parse(b"$x = [int][string]'1'\n$y = $x.Count\n")) == []


def strict_problems(tree: pwsh.Tree) -> List[str]:
    """What a profile's `Set-StrictMode -Version Latest` makes throw in text it applies to (a
    dot-sourced script, Invoke-Expression's text; Microsoft Learn, Set-StrictMode): an index that is a
    number (one out of bounds throws from version 3), and a member of a command's output in
    parentheses (no output is $null, whose members throw from version 2: PowerShell's
    PSGetMemberBinder, PropertyNotFoundStrict)."""
    def text(node):
        return tree.source[node.start_byte:node.end_byte].decode("utf-8")

    found = []
    for node in pwsh.walk(tree.root):
        if node.type == "element_access":
            index = node.children[2]
            if any(n.type == "integer_literal" for n in pwsh.walk(index)) and text(index).strip().isdigit():
                found.append("index " + text(node)[:60])
        elif node.type == "member_access" and node.children[0].type == "parenthesized_expression" and any(
                n.type == "command" for n in pwsh.walk(node.children[0])):
            found.append("member of a command's output " + text(node)[:60])
    return found


def test_the_strict_mode_check_sees_what_set_strictmode_refuses():
    bad = pwsh.parse(b"$a = $bat[0]\n$b = (Get-Item -LiteralPath 'Env:X').Value\n$c = @(Get-Command x)[0]\n")
    assert len(strict_problems(bad)) == 3
    assert strict_problems(pwsh.parse(b"$a = $h['PATH']\n$b = $x[$i]\n$c = $state.Prefix\n$d = ($a + $b).Length\n")) == []


def mambaboots_ps1(prefix: Path, windows: bool) -> dict:
    """Every .ps1 mambaboot writes into an environment: its activation scripts and variables'
    fragment, and its etc/conda hooks (~mambaboot-root.ps1, which conda's and mamba's activation run)."""
    from mambaboot.environment import roothook

    written = {**generate.render(str(prefix), windows=windows), **roothook.render(windows)}
    return {rel: data for rel, data in written.items() if rel.endswith(".ps1")}


@pytest.mark.parametrize("windows", [True, False], ids=["windows", "pwsh"])
def test_activation_text_runs_in_constrained_language_mode(tmp_path, windows):
    """AppLocker and App Control put PowerShell in ConstrainedLanguage mode, where no .NET method
    can be called and only a few types named (about_Language_Modes); the activation text runs in
    the caller's mode under Invoke-Expression, and conda's and mamba's activation run the root hook
    in it, so every .ps1 mambaboot writes uses cmdlets, operators and the Env: drive only. A
    profile's Set-StrictMode applies to them too: no index by number, no member of a command's
    output in parentheses."""
    from tests.test_activation_posix import _add_environment_data

    prefix = tmp_path / "env"
    (prefix / "conda-meta").mkdir(parents=True)
    _add_environment_data(prefix)
    scripts = mambaboots_ps1(prefix, windows)
    assert {".mambaboot/activate.ps1", ".mambaboot/deactivate.ps1", ".mambaboot/vars.ps1",
            "etc/conda/activate.d/~mambaboot-root.ps1", "etc/conda/deactivate.d/~mambaboot-root.ps1"} == set(scripts)
    for rel, data in scripts.items():
        tree = pwsh.parse(data)
        assert clm_problems(tree) == [] and strict_problems(tree) == [], rel
    for script in (powershell.ACTIVATE, powershell.DEACTIVATE):
        tree = pwsh.parse(powershell.line(str(prefix), script).encode())
        assert clm_problems(tree) == [] and strict_problems(tree) == []


def test_package_hooks_a_policy_refuses_are_left_out_and_named_once(made_env):
    """Restricted runs no script file and AllSigned only a signed one (about_Execution_Policies):
    dot-sourced, each of the packages' hooks would fail with an error of its own. activate.ps1 asks
    Get-ExecutionPolicy (the policy in force) first, leaves such hooks out, at activation and at
    deactivation, and says so in one warning naming them and the two ways out; every other policy
    runs them as conda does. What the policies do is proven on Windows (e2e.yml)."""
    raw = (made_env / ".mambaboot" / "activate.ps1").read_bytes()
    tree = pwsh.parse(raw)
    code = raw.decode("utf-8-sig")
    assert "foreach ($hook in @(& $allowed @(& $hooks $prefix 'activate'))) {" in code
    assert "$scripts = @(& $state.Allowed @(& $state.Hooks $state.Prefix 'deactivate'))" in code
    sourced = [n for n in pwsh.walk(tree.root) if n.type == "command" and n.children[0].type == "command_invokation_operator"
               and n.children[0].children[0].type == "."]
    assert len(sourced) == 2  # the two loops above, nothing else
    # and called, not dot-sourced, in another language mode, where a hook the policy trusts has another mode
    for hook in ("$hook", "$scripts[$i]"):
        assert (f"if ($ExecutionContext.SessionState.LanguageMode -eq 'FullLanguage') {{ . {hook} }} else {{ & {hook} }}"
                in code), hook
    block = next(n for n in pwsh.walk(tree.root) if n.type == "assignment_expression"
                 and tree.source[n.start_byte:n.end_byte].startswith(b"$allowed = {"))
    inner = pwsh.Tree(tree.source, block)
    assert pwsh.commands(inner).count("Write-Warning") == 1 and "Write-Error" not in pwsh.commands(inner)
    assert {"Get-ExecutionPolicy", "Get-AuthenticodeSignature"} <= set(pwsh.commands(inner))
    assert "if (@('Restricted', 'AllSigned') -notcontains $policy) { return $scripts }" in code
    for text in (powershell.HOOKS_SKIPPED, powershell.HOOKS_USER_POLICY, powershell.HOOKS_GROUP_POLICY):
        assert powershell.quote(text) in code
    ways = powershell.HOOKS_USER_POLICY
    assert "activate.bat" in ways and "Set-ExecutionPolicy -Scope CurrentUser RemoteSigned" in ways


def test_activation_runs_no_script_file_of_its_own(made_env):
    """An execution policy of Restricted or AllSigned refuses every script file, so activation
    runs none of its own: the line reads activate.ps1 as text, activate.ps1 reads vars.ps1 as text,
    and mambaboot's own ~mambaboot-root.ps1 hook (for conda's activation) is left out. Only the
    packages' own hooks (etc/conda/*.d/*.ps1) are run as files, as conda runs them."""
    from mambaboot.environment import roothook

    code = (made_env / ".mambaboot" / "activate.ps1").read_text(encoding="utf-8-sig")
    assert f"Where-Object {{ $_.Name -like '*.ps1' -and $_.Name -ne '{roothook.NAME}.ps1' }}" in code
    for name in ("activate.ps1", "deactivate.ps1", "vars.ps1"):
        tree = pwsh.parse((made_env / ".mambaboot" / name).read_bytes())
        sourced = [tree.source[n.children[1].start_byte:n.children[1].end_byte].decode() for n in pwsh.walk(tree.root)
                   if n.type == "command" and n.children[0].type == "command_invokation_operator"
                   and n.children[0].children[0].type == "."]
        assert sourced == (["$scripts[$i]", "$hook"] if name == "activate.ps1" else []), (name, sourced)
    line = powershell.line(str(made_env))
    tree = pwsh.parse(line.encode())
    assert pwsh.commands(tree) == ["Invoke-Expression", "Get-Content"]
    # the prefix reaches the line once, as a literal, the script block's one argument
    assert _only_in_single_quoted_literals(tree, str(made_env)) == 1 and line.endswith(powershell.quote(str(made_env)))


def test_advice_names_no_command_where_the_output_would_escape_a_character():
    """A value the terminal output escapes (a line break, any control or format character) or a
    shell cannot hold (NUL; on Windows a double quote) gets the fallback text, never a command."""
    for value, windows in (("a\nb", False), ("a\x1bb", False), ("a\u202eb", False), ("a\0b", False),
                           ("C:\\a\nb", True), ('C:\\a"b', True)):
        assert quoting.advice(["rm", "-rf", value], windows, "by hand") == "by hand"
    assert quoting.advice(["rm", "-rf", "/a b"], False, "by hand") == "`rm -rf '/a b'`"


def test_advice_takes_a_ready_powershell_line_and_keeps_its_one_fallback():
    """A PowerShell command that is no program and its arguments (activate-scripts' line, which reads
    activate.ps1 as text) is given ready made: the cmd.exe line beside it, and the one fallback when
    either cannot be typed (before: activate-scripts repeated that fallback around cmd_prompt)."""
    prefix = "C:\\Users\\Jane Doe\\env"
    line = powershell.line(prefix)
    assert quoting.advice(["call", prefix + "\\.mambaboot\\activate.bat"], True, powershell_line=line) == (
        f'`call "{prefix}\\.mambaboot\\activate.bat"` in cmd.exe, `{line}` in PowerShell')
    assert quoting.advice(["call", "C:\\a\\activate.bat"], True, powershell_line=line).startswith(
        "`call C:\\a\\activate.bat` in cmd.exe, "), "two lines even where cmd's word is bare"
    for bad in ("C:\\a\nb", 'C:\\a"b'):
        assert quoting.advice(["call", bad + "\\activate.bat"], True, powershell_line=powershell.line(bad)) == \
            quoting.UNTYPABLE


def test_the_advised_call_of_a_batch_file_typed_at_cmds_prompt_runs_it(wine, tmp_path):
    """A `call "...activate.bat"` advised for cmd.exe (with a PowerShell line beside it): typed at Wine's cmd prompt, where %NAME% expands even inside "...", the call
    runs the very batch file, in a directory named with cmd's operators and % and !."""
    folder = tmp_path / "env %PATH% & (x) ^ !y ; it's $z" / ".mambaboot"
    folder.mkdir(parents=True)
    done = tmp_path / "done.txt"
    (folder / "activate.bat").write_bytes(f'@echo called> "{windows_path(done)}"\r\n'.encode())
    script = windows_path(folder / "activate")
    shown = shown_on_windows(quoting.advice(["call", script + ".bat"], True, powershell_argv=[".", script + ".ps1"]))
    # dot-sourced: the grammar reads `.` as the operator and the literal after it as the command
    assert shown["powershell"].startswith(". '") and pwsh.words(shown["powershell"]) == [script + ".ps1"]
    wine.typed([shown["cmd"]], {}, tmp_path)
    assert done.read_text().strip() == "called", shown["cmd"]
