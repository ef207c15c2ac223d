"""Value classes without `dataclasses`.

`dataclasses` imports inspect (ast, dis, tokenize, linecache, enum) and builds every class by
compiling generated code: about 20 ms of each `create` before any work, twice the time the
work on a small environment takes (issue 16). These classes need only what is below: fields
in the order the class annotates them, defaults, ==, a repr, and (frozen) no assignment.

    @value
    class Point:
        x: int
        y: int = 0
        tags: list = factory(list)   # a fresh default each time
"""


class factory:
    """A default made anew for each instance (dataclasses' default_factory)."""

    __slots__ = ("make",)

    def __init__(self, make):
        self.make = make


class FrozenError(AttributeError):
    pass


def value(cls=None, *, frozen: bool = True):
    """Give cls an __init__ over its annotated fields, __eq__, __repr__ and, when frozen, __hash__
    and no assignment after __init__. Annotations are never evaluated (they may be text)."""
    def build(cls):
        names = tuple(cls.__dict__.get("__annotations__", {}))
        defaults = {n: cls.__dict__[n] for n in names if n in cls.__dict__}
        for name, default in defaults.items():
            if isinstance(default, factory):
                delattr(cls, name)  # an instance always has its own; the class keeps no shared one
        required = [n for n in names if n not in defaults]
        if any(names.index(r) > names.index(d) for r in required for d in defaults):
            raise TypeError(f"{cls.__name__}: a field without a default follows one with a default")
        setter = object.__setattr__

        def __init__(self, *args, **kwargs):
            if len(args) > len(names):
                raise TypeError(f"{cls.__name__}() takes {len(names)} arguments, {len(args)} given")
            given = dict(zip(names, args))
            for key, val in kwargs.items():
                if key not in defaults and key not in required or key in given:
                    raise TypeError(f"{cls.__name__}() got an unexpected or repeated argument {key!r}")
                given[key] = val
            for name in names:
                if name in given:
                    val = given[name]
                elif name in defaults:
                    val = defaults[name]
                    if isinstance(val, factory):
                        val = val.make()
                else:
                    raise TypeError(f"{cls.__name__}() missing argument {name!r}")
                setter(self, name, val)

        def __eq__(self, other):
            if other.__class__ is not self.__class__:
                return NotImplemented
            return all(getattr(self, n) == getattr(other, n) for n in names)

        def __repr__(self):
            return f"{cls.__qualname__}({', '.join(f'{n}={getattr(self, n)!r}' for n in names)})"

        cls.__init__ = __init__
        cls.__eq__ = __eq__
        cls.__repr__ = __repr__
        cls.__value_fields__ = names
        if frozen:
            def __setattr__(self, name, val):
                raise FrozenError(f"cannot assign to field {name!r} of a frozen {cls.__name__}")

            cls.__setattr__ = __setattr__
            cls.__delattr__ = __setattr__
            cls.__hash__ = lambda self: hash(tuple(getattr(self, n) for n in names))
        else:
            cls.__hash__ = None  # mutable and compared by value: unhashable, as dataclasses makes it
        return cls

    return build if cls is None else build(cls)


def replace(obj, **changes):
    """A copy of obj with some fields changed."""
    return obj.__class__(**{n: changes.pop(n, getattr(obj, n)) for n in obj.__value_fields__}, **changes)


def asdict(obj):
    """obj's fields as a dict, value objects, lists, tuples and dicts within copied the same way."""
    if hasattr(obj.__class__, "__value_fields__"):
        return {n: asdict(getattr(obj, n)) for n in obj.__value_fields__}
    if isinstance(obj, (list, tuple)):
        return type(obj)(asdict(v) for v in obj)
    if isinstance(obj, dict):
        return {asdict(k): asdict(v) for k, v in obj.items()}
    return obj
