"""What leaves mambaboot goes through its destination's one function (docs/reliability.md, "What
leaves mambaboot, and the rule for each"): each row of that table names functions that exist and
are used, and the source holds no exit that goes around them. Each checker is shown a planted
bypass first, so that a checker that sees nothing fails too."""

import ast
import importlib
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src" / "mambaboot"


def _sources():
    for path in sorted(SRC.rglob("*.py")):
        yield path.relative_to(SRC).as_posix(), path.read_text(encoding="utf-8")


def _rows():
    text = (REPO / "docs" / "reliability.md").read_text(encoding="utf-8")
    section = text.split("## What leaves mambaboot, and the rule for each", 1)[1].split("\n## ", 1)[0]
    return [line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| destination")]


def test_each_exit_in_the_inventory_names_functions_that_exist_and_are_used():
    """Each row names, per module, functions of that module, each called somewhere in the package
    (a renamed or deleted function fails here until the table follows)."""
    rows = _rows()
    assert len(rows) >= 12, rows
    everything = "\n".join(text for _, text in _sources())
    for row in rows:
        cell = row.strip("|").split("|")[1]
        for group in cell.split(";"):
            module, *names = re.findall(r"`([^`]+)`", group)
            assert module.endswith(".py") and names, row
            mod = importlib.import_module("mambaboot." + module[:-3].replace("/", "."))
            for name in names:
                assert callable(getattr(mod, name, None)), (row, module, name)
                calls = len(re.findall(rf"\b{name}\(", everything)) - len(re.findall(rf"\bdef {name}\(", everything))
                assert calls > 0, f"{module} {name} is named as an exit's function but nothing calls it"


# A value formatted between an f-string's backticks is the mark of a command or a quote shown to
# the user. A command to type goes through common/quoting.py `advice`; what stays is a name, never
# a path: a command's or tool's own name, a platform's, or a quote of what a file holds.
NOT_A_PATH = {
    ("common/errors.py", "command"): "the name of mambaboot's command",
    ("pipeline/adopt.py", "command"): "the name of mambaboot's command",
    ("pipeline/verify.py", "command"): "python, conda or mamba",
    ("pipeline/verify.py", "tool"): "python, conda or mamba",
    ("shell/doctor.py", "name"): "python, conda or mamba",
    ("environment/pixilock.py", "subdir"): "a platform's name, as the lock spells it",
    ("pipeline/envfile.py", "key"): "a quote of an environment file's key",
    ("pipeline/envfile.py", "item"): "a quote of an environment file's dependency item",
    ("relocate/rewrite.py", "name.decode('utf-8', 'replace')"): "a quote of the #! line it would write",
    ("shell/doctor.py", "h.text"): "a quote of the user's start-up file",
    ("shell/doctor.py", "s.text"): "a quote of the user's start-up file",
    ("commands/doctor.py", "h.text"): "a quote of the user's start-up file",
    ("shell/shellinit.py", "shown(foreign)"): "a quote of the user's start-up file",
}


def _formatted_in_backticks(text: str) -> list:
    """(line, expression) of each value formatted inside backticks: in an f-string, or in a
    str.format() of a literal."""
    found = []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.JoinedStr):
            inside = False
            for part in node.values:
                if isinstance(part, ast.Constant):
                    inside ^= part.value.count("`") % 2 == 1
                elif inside:
                    found.append((node.lineno, ast.unparse(part.value)))
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format"
              and isinstance(node.func.value, ast.Constant) and isinstance(node.func.value.value, str)):
            if re.search(r"`[^`]*\{[^`]*`", node.func.value.value):
                found.append((node.lineno, node.func.value.value))
    return found


def test_the_advice_checker_sees_a_command_built_by_hand():
    planted = ('raise Stuck(f"delete it: `rm -rf {place}`")\n'
               'why = "run `mambaboot move {} DEST`".format(prefix)\n'
               'ok = f"{quoting.advice([\'rm\', place], False)} deletes it"\n')
    assert sorted(_formatted_in_backticks(planted)) == [(1, "place"), (2, "run `mambaboot move {} DEST`")]


def test_no_command_is_advised_but_through_its_function():
    """No module but common/quoting.py formats a value into a command it shows (`rm -rf {path}`,
    `mambaboot move {src} ...`): those go through quoting.advice, which quotes each value for the
    shell it is typed in. Each exception is a name that is never a path (NOT_A_PATH)."""
    found, seen = [], set()
    for rel, text in _sources():
        if rel == "common/quoting.py":
            continue
        for line, expression in _formatted_in_backticks(text):
            seen.add((rel, expression))
            if (rel, expression) not in NOT_A_PATH:
                found.append(f"{rel}:{line}: {expression}")
    assert found == []
    assert set(NOT_A_PATH) <= seen, f"no longer formatted, drop them: {set(NOT_A_PATH) - seen}"


# Who may write to the terminal: the CLI and the commands (its rendering), common/output.py (its
# functions), and the stand-alone scripts that run without mambaboot (their own messages).
TERMINAL = ("cli.py", "commands/", "common/output.py", "shell/activation/envvars.py", "relocate/unpack.py")


def _terminal_writes(text: str) -> list:
    found = []
    for node in ast.walk(ast.parse(text)):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        printed = isinstance(f, ast.Name) and f.id == "print"
        written = (isinstance(f, ast.Attribute) and f.attr in ("write", "writelines") and isinstance(f.value, ast.Attribute)
                   and f.value.attr in ("stdout", "stderr", "__stdout__", "__stderr__"))
        if printed or written:
            found.append(node.lineno)
    return found


def test_the_terminal_checker_sees_a_print_and_a_write():
    assert _terminal_writes("print(path)\nimport sys\nsys.stderr.write(x)\nstream.write(x)\n") == [1, 3]


def test_nothing_below_the_commands_writes_to_the_terminal():
    """Library code never prints: what it says reaches the terminal through the commands, by
    common/output.py, which escapes what a terminal would act on."""
    found = [f"{rel}:{line}" for rel, text in _sources() if not rel.startswith(TERMINAL)
             for line in _terminal_writes(text)]
    assert found == []


# Where pip is run with a requirements file: each writes it from lines checked one word of one
# line (environment/lockfile.py PIP_WORD) or the user's own pip section.
PIP_REQUIREMENTS = {("pipeline/provision.py", "_Run.pip"), ("pipeline/provision.py", "_Run._keep_copies"),
                    ("pipeline/locking.py", "lock_pip")}


def _pip_with_requirements(text: str) -> list:
    found = []

    def visit(node, where):
        for child in ast.iter_child_nodes(node):
            inner = f"{where}.{child.name}".lstrip(".") if isinstance(
                child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) else where
            # a command's words: a list, or the arguments of the call that makes one (isolation.python)
            elements = child.elts if isinstance(child, ast.List) else child.args if isinstance(child, ast.Call) else None
            if elements is not None:
                words = {e.value for e in elements if isinstance(e, ast.Constant)}
                if "pip" in words and words & {"-r", "--requirement", "-c", "--constraint"}:
                    found.append(inner)
            visit(child, inner)

    visit(ast.parse(text), "")
    return found


def test_the_pip_checker_sees_a_requirements_file():
    planted = ("def f(p):\n    return [p, '-m', 'pip', 'install', '-r', 'x.txt']\n"
               "def g(p):\n    return isolation.python(p, '-m', 'pip', 'install', '-r', 'x.txt')\n")
    assert _pip_with_requirements(planted) == ["f", "g"]


def test_pip_reads_a_requirements_file_only_where_the_inventory_says():
    found = {(rel, where) for rel, text in _sources() for where in _pip_with_requirements(text)}
    assert found == PIP_REQUIREMENTS


# A URL's password and token are hidden where the URL is written, read as a URL there
# (common/urlrule.py), and nowhere else: its functions are given a value (a URL, a pip line, a
# document's fields), never a message composed around one (an f-string, a concatenation, a join),
# it remembers no value it has seen to look for later, and what writes to the terminal or a file
# others read (common/output.py) rewrites nothing.
URL_FUNCTIONS = ("shown", "refused", "shown_in_words", "shown_fields", "without_auth", "credentials")


def _url_rule_on_text(text: str) -> list:
    """Lines where a urlrule function is given composed text."""
    found = []
    for node in ast.walk(ast.parse(text)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in URL_FUNCTIONS
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "urlrule" and node.args):
            continue
        arg = node.args[0]
        if isinstance(arg, (ast.JoinedStr, ast.BinOp)) or (
                isinstance(arg, ast.Call) and isinstance(arg.func, ast.Attribute) and arg.func.attr in ("join", "format")):
            found.append(node.lineno)
    return found


def _remembered(text: str) -> list:
    """Names bound at a module's top level to a mutable collection, or declared global in a function."""
    found = []
    tree = ast.parse(text)
    for node in tree.body:
        value = node.value if isinstance(node, (ast.Assign, ast.AnnAssign)) else None
        if isinstance(value, (ast.Set, ast.Dict, ast.List)) or (
                isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id in ("set", "dict", "list")):
            found.append(node.lineno)
    found += [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Global)]
    return found


def test_the_url_checkers_see_a_message_rewritten_and_a_value_remembered():
    planted = ('said = urlrule.shown(f"download of {url} failed")\nok = urlrule.shown(url)\n'
               'line = urlrule.without_auth(" ".join(words))\n')
    assert _url_rule_on_text(planted) == [1, 3]
    assert _remembered("_SECRETS: set = set()\nHIDDEN = '***'\ndef note(x):\n    global _SECRETS\n") == [1, 4]


def test_a_url_is_hidden_where_it_is_written_and_nothing_rewrites_text_after():
    found = [f"{rel}:{line}" for rel, text in _sources() for line in _url_rule_on_text(text)]
    assert found == []
    rule = (SRC / "common" / "urlrule.py").read_text(encoding="utf-8")
    assert _remembered(rule) == [], "common/urlrule.py keeps what it has seen"
    imported = {alias.name for node in ast.walk(ast.parse((SRC / "common" / "output.py").read_text(encoding="utf-8")))
                if isinstance(node, (ast.Import, ast.ImportFrom)) for alias in node.names}
    assert "urlrule" not in imported, "common/output.py rewrites what it writes"


# A Python mambaboot starts runs a module (`-m pip`) only through common/isolation.py `python`,
# which isolates it from the folder it starts in (-I): a command list naming `-m` goes around it.
def _modules_run(text: str) -> list:
    return [node.lineno for node in ast.walk(ast.parse(text))
            if isinstance(node, ast.List) and any(isinstance(e, ast.Constant) and e.value == "-m" for e in node.elts)]


def test_the_module_checker_sees_a_python_started_by_hand():
    planted = "cmd = [python, '-m', 'pip', 'install']\nok = isolation.python(python, '-m', 'pip')\n"
    assert _modules_run(planted) == [1]


def test_every_module_a_python_runs_is_run_isolated():
    assert [f"{rel}:{line}" for rel, text in _sources() for line in _modules_run(text)] == []
