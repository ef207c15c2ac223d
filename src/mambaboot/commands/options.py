"""Each command's options, described once: the table a command module declares (OPTIONS) builds
its argparse subparser (add_to) and is read directly by the start-up path (read), which imports
nothing: argparse, with the re, gettext and shutil it brings, costs more than most commands'
own start. tests/test_startup_structure.py checks, over command lines generated from every
table, that read() means what the parser built from the same table says.
"""

FLAG, VALUE, REPEATED, FIXED = "flag", "value", "repeated", "fixed"
# positionals: exactly one word, at most one, any number, and everything after a "--"
ONE, OPTIONAL, ANY, REST = "one", "optional", "any", "rest"
_NARGS = {ONE: None, OPTIONAL: "?", ANY: "*", REST: "..."}  # "..." is argparse.REMAINDER


class Option:
    """One option or positional of a command. A plain class: no dataclasses at start-up."""

    __slots__ = ("kind", "spellings", "dest", "metavar", "help", "choices", "required", "default")

    def __init__(self, kind: str, spellings: tuple, dest: str, metavar=None, help=None, choices=None,
                 required: bool = False, default=None) -> None:
        self.kind, self.spellings, self.dest, self.metavar, self.help = kind, spellings, dest, metavar, help
        self.choices, self.required, self.default = choices, required, default

    def initial(self):
        """What the parser gives it when the command line does not (a fresh list each time)."""
        if self.kind == FLAG:
            return False
        if self.kind in (REPEATED, ANY):
            return []
        return self.default


class Group:
    """Options shown under a heading of their own in --help (argparse's argument group)."""

    __slots__ = ("title", "description", "options")

    def __init__(self, title: str, description, options: tuple) -> None:
        self.title, self.description, self.options = title, description, options


def _dest(spellings: tuple) -> str:
    return next((s for s in spellings if s.startswith("--")), spellings[0]).lstrip("-").replace("-", "_")


def flag(*spellings: str, help: str, dest=None) -> Option:
    return Option(FLAG, spellings, dest or _dest(spellings), help=help)


def value(*spellings: str, metavar=None, help: str, dest=None, choices=None, required: bool = False) -> Option:
    return Option(VALUE, spellings, dest or _dest(spellings), metavar, help, choices, required)


def repeated(*spellings: str, metavar: str, help: str, dest: str) -> Option:
    return Option(REPEATED, spellings, dest, metavar, help)


def positional(dest: str, metavar: str, help: str, kind: str = ONE, choices=None) -> Option:
    return Option(kind, (), dest, metavar, help, choices)


def fixed(dest: str, default) -> Option:
    """A value the command's arguments hold whatever the command line says."""
    return Option(FIXED, (), dest, default=default)


def group(title: str, *options, description=None) -> Group:
    return Group(title, description, _flat(options))


def _flat(items) -> tuple:
    """Options and tuples of them (a shared set) as one tuple."""
    out = []
    for item in items:
        out.extend(item if isinstance(item, tuple) else (item,))
    return tuple(out)


def table(*items) -> tuple:
    """A command's OPTIONS: options, groups, and tuples of them, in --help's order."""
    return _flat(items)


def each(options: tuple):
    """Every Option of a table, its groups' too."""
    for item in options:
        if isinstance(item, Group):
            yield from item.options
        else:
            yield item


def refusal(text) -> "str | None":
    """Why text cannot be an option's value (None: it can). Every value option names something
    (a place, a version, a spec, a URL): an empty one names nothing, and "--" is where argparse
    ends the options (after "=" too, by Python version), never a value: both refused, so
    neither is ever read as an option not given (the default in its place)."""
    if not isinstance(text, str) or text == "--":  # argparse gives [] for `--OPT=--` (up to 3.12)
        return "'--' is not a value (a file or directory of that name is ./--)"
    if not text:
        return "an empty value names nothing"
    return None


def _empty_word(words) -> bool:
    """Whether a positional's word (or one of its words) is empty: a NAME or PREFIX that names
    nothing, which a path would read as the envs root or the working directory, and a command
    as not given. A positional "--" (after the "--" that ends the options) is a name, taken
    literally; a command's own words after "--" (REST) are never looked at."""
    return words == "" or (isinstance(words, list) and "" in words)


def _checked(argparse, action: str):
    """argparse's store or append action, refusing what refusal() refuses, as argparse says a
    value is missing (exit 2, the option named); "positional": a positional's store action,
    refusing an empty word (exit 2, its metavar named)."""
    base = {"store": argparse._StoreAction, "append": argparse._AppendAction, "positional": argparse._StoreAction}[action]

    class Checked(base):
        def __call__(self, parser, namespace, values, option_string=None):
            if action == "positional":
                wrong = "an empty value names nothing" if _empty_word(values) else None
            else:
                wrong = refusal(values)
            if wrong:
                parser.error(f"argument {'/'.join(self.option_strings) or self.metavar or self.dest}: {wrong}")
            super().__call__(parser, namespace, values, option_string)

    return Checked


def add_to(parser, options: tuple) -> None:
    """The table as argparse arguments of parser (a command's subparser)."""
    import argparse  # add_to runs for the parser only: argparse is imported already

    for item in options:
        if isinstance(item, Group):
            add_to(parser.add_argument_group(item.title, item.description), item.options)
        elif item.kind == FIXED:
            parser.set_defaults(**{item.dest: item.default})
        elif item.spellings:
            action = "store_true" if item.kind == FLAG else _checked(argparse, "store" if item.kind == VALUE else "append")
            extra = {} if item.kind == FLAG else {"metavar": item.metavar, "choices": item.choices}
            if item.kind == REPEATED:
                extra["default"] = []
            if item.required:
                extra["required"] = True
            parser.add_argument(*item.spellings, dest=item.dest, action=action, help=item.help, **extra)
        else:
            extra = {"choices": item.choices} if item.choices else {}
            if item.kind != REST:
                extra["action"] = _checked(argparse, "positional")
            parser.add_argument(item.dest, nargs=_NARGS[item.kind], metavar=item.metavar, help=item.help, **extra)


def read(options: tuple, words: list):
    """{dest: value} for every option of the table, as the parser built from it reads words (a
    command line without the command's name), when every option is spelled out whole (a value
    is the next word, not starting with "-", or follows "="), each one not repeatable given at
    most once, positional words do not start with "-" (those of an ANY positional one run of
    them), and only REST's "--" ends the options; None for anything else (abbreviations, -h,
    an unknown option, a value outside its choices or that refusal() refuses, an empty
    positional word, a required option missing, too few or too many words), which the parser
    is left to, to do or to say what is wrong."""
    spelled, positionals, values = {}, [], {}
    for option in each(options):
        values[option.dest] = option.initial()
        if option.spellings:
            for spelling in option.spellings:
                spelled[spelling] = option
        elif option.kind != FIXED:
            positionals.append(option)
    given, taken = set(), []  # options seen; positional words, in order
    ended_run = False  # an ANY positional's words are one run: an option after them ends it
    pending = None  # the option whose value is the next word
    i = 0
    while i < len(words):
        word = words[i]
        i += 1
        if pending is not None:
            if word.startswith("-") or not _set(values, pending, word):
                return None
            pending = None
            continue
        if word == "--" and positionals and positionals[-1].kind == REST:
            taken.append(words[i:])
            break
        name, eq, text = word.partition("=")
        option = spelled.get(word) or (spelled.get(name) if eq else None)
        if option is not None:
            if option.kind != REPEATED and option.dest in given:
                return None
            given.add(option.dest)
            ended_run = bool(taken)
            if option.kind == FLAG:
                if eq and word not in spelled:
                    return None
                values[option.dest] = True
            elif eq and word not in spelled:
                if not _set(values, option, text):
                    return None
            else:
                pending = option
            continue
        if word.startswith("-") or (ended_run and any(p.kind == ANY for p in positionals)):
            return None
        taken.append(word)
    if pending is not None:
        return None
    return values if _place(positionals, taken, values) and _complete(options, given) else None


def _set(values: dict, option: Option, text: str) -> bool:
    if refusal(text):  # the parser says what is wrong
        return False
    if option.choices is not None and text not in option.choices:
        return False
    if option.kind == REPEATED:
        values[option.dest].append(text)
    else:
        values[option.dest] = text
    return True


def _place(positionals: list, taken: list, values: dict) -> bool:
    """The positional words into their positionals' values; False when they do not fit."""
    rest = taken.pop() if taken and isinstance(taken[-1], list) else None
    if _empty_word(taken):  # the parser says what is wrong
        return False
    for option in positionals:
        if option.kind == REST:
            if not rest:  # the command after "--": at least one word
                return False
            values[option.dest] = ["--", *rest]  # as argparse's REMAINDER keeps it
        elif option.kind == ANY:
            values[option.dest], taken = taken, []
        elif taken:
            if option.choices is not None and taken[0] not in option.choices:
                return False
            values[option.dest], taken = taken[0], taken[1:]
        elif option.kind == ONE:
            return False
    return not taken and (rest is None or any(p.kind == REST for p in positionals))


def _complete(options: tuple, given: set) -> bool:
    return all(o.dest in given for o in each(options) if o.required)
