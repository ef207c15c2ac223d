"""JSON without importing the json package where start-up counts (remove, a create's wait
before its engine): json's decoder and encoder compile their patterns with re, which with
enum and collections is ~7 ms. The C scanner and string encoder json itself uses (`_json`,
CPython's accelerator, behind json.scanner and json.encoder) do the same work; where they are
missing, or the text is not UTF-8, json does it."""


class _Decoding:
    """What _json.make_scanner reads from its context: json.JSONDecoder()'s defaults."""

    strict = True
    object_hook = object_pairs_hook = None
    parse_float, parse_int = float, int
    parse_constant = {"-Infinity": float("-inf"), "Infinity": float("inf"), "NaN": float("nan")}.__getitem__


_WHITESPACE = " \t\n\r"  # json.decoder.WHITESPACE

try:  # made once: the C scanner clears its memo after each text it reads
    from _json import encode_basestring, make_scanner
    _SCAN = make_scanner(_Decoding)
except ImportError:  # pragma: no cover - CPython has it
    encode_basestring = _SCAN = None


def loads(data):
    """json.loads(data) (bytes or str): the same value, or a ValueError for what it refuses."""
    scan = _SCAN
    if isinstance(data, (bytes, bytearray)):
        # json.detect_encoding: a BOM or NUL among the first bytes means UTF-16/32 (or refused)
        if scan is None or data.startswith(b"\xef\xbb\xbf") or 0 in data[:4]:
            scan = None
        else:
            data = data.decode("utf-8", "surrogatepass")
    if scan is None or data.startswith("\ufeff"):
        import json

        return json.loads(data)
    start = len(data) - len(data.lstrip(_WHITESPACE))
    try:
        value, end = scan(data, start)
    except StopIteration:
        raise ValueError(f"Expecting value: char {start}") from None
    except SystemError:
        # _json words its errors with json.decoder.JSONDecodeError, which it looks up in
        # sys.modules without importing it (CPython Modules/_json.c, raise_errmsg, up to 3.11):
        # without json imported it raises nothing and the call is a SystemError; json says it
        import json

        return json.loads(data)
    if data[end:].strip(_WHITESPACE):
        raise ValueError(f"Extra data: char {end}")
    return value


def dumps_flat(body: dict) -> str:
    """json.dumps(body, ensure_ascii=False) for a dict whose values are str, int or None."""
    if encode_basestring is None or not all(v is None or type(v) in (str, int) for v in body.values()):
        import json

        return json.dumps(body, ensure_ascii=False)
    members = (f"{encode_basestring(k)}: {'null' if v is None else encode_basestring(v) if type(v) is str else v}"
               for k, v in body.items())
    return "{" + ", ".join(members) + "}"


def _scanner():
    if _SCAN is not None:
        return _SCAN
    import json  # pragma: no cover - CPython has _json
    import json.scanner

    return json.scanner.py_make_scanner(json.JSONDecoder())


def members(text: str, at: int) -> "tuple[list, int]":
    """The members of the JSON object whose "{" is at text[at], where the text says them, nothing
    re-read as a value and written back: [(key, key start, value start, value end)], in order,
    duplicates included, and the index of its closing "}". For an edit of one member that keeps
    every other byte (a number as written, a key given twice). ValueError where it is no object."""
    scan = _scanner()

    def skip(i: int) -> int:
        while i < len(text) and text[i] in _WHITESPACE:
            i += 1
        return i

    if text[at:at + 1] != "{":
        raise ValueError(f"not an object at char {at}")
    found, i = [], skip(at + 1)
    if text[i:i + 1] == "}":
        return found, i
    while True:
        if text[i:i + 1] != '"':
            raise ValueError(f"Expecting property name at char {i}")
        try:
            key, end = scan(text, i)
            colon = skip(end)
            if text[colon:colon + 1] != ":":
                raise ValueError(f"Expecting ':' at char {colon}")
            start = skip(colon + 1)
            _, stop = scan(text, start)
        except (StopIteration, SystemError):
            raise ValueError(f"Expecting value at char {i}") from None
        found.append((key, i, start, stop))
        i = skip(stop)
        if text[i:i + 1] == "}":
            return found, i
        if text[i:i + 1] != ",":
            raise ValueError(f"Expecting ',' delimiter at char {i}")
        i = skip(i + 1)
