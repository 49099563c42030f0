"""Decoding a relay request's body and query arguments: bytes from the network to plain JSON values.

This module owns what the relay accepts on the wire and nothing else (no HTTP handlers, no request
state). Every refusal is a `RelayError` with status 400 (413 for an oversized body) and one line
saying what was wrong, so hostile input never reaches the relay as an exception (a 500):

- the body must be UTF-8 (strict: no lone surrogates, no other encodings);
- JSON as RFC 8259 defines it: no `NaN`/`Infinity`, no number that overflows a float, no integer
  longer than `MAX_INT_DIGITS`, no `\\uD800`-style unpaired surrogate escapes;
- nested at most `MAX_DEPTH` arrays/objects deep, measured by an iterative scan *before* parsing,
  so neither `json.loads` nor anything after it (the secret-field walk, `json.dumps` of replies)
  recurses deeply;
- at most `MAX_BODY` bytes.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from .relay import RelayError

MAX_BODY = 1 << 20
MAX_DEPTH = 64
#: Longer than any uint256 (78 digits), far below Python's int-conversion limit.
MAX_INT_DIGITS = 1000

# One token of the depth scan: a bracket, or a whole string literal (an unterminated one runs to the
# end of the text) so that brackets inside strings are not counted.
_DEPTH_TOKEN = re.compile(r'[\[\]{}]|"[^"\\]*(?:\\[\s\S][^"\\]*)*"?')


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _bounded_int(text: str) -> int:
    digits = len(text.lstrip("-"))
    if digits > MAX_INT_DIGITS:
        raise ValueError(f"an integer of {digits} digits is longer than {MAX_INT_DIGITS}")
    return int(text)


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text[:20]} is out of range")
    return value


def json_depth_exceeds(text: str, limit: int = MAX_DEPTH) -> bool:
    """Whether `text` nests arrays/objects more than `limit` deep (iterative; strings are skipped)."""
    depth = 0
    for match in _DEPTH_TOKEN.finditer(text):
        tok = match.group()
        if tok in ("[", "{"):
            depth += 1
            if depth > limit:
                return True
        elif tok in ("]", "}"):
            depth -= 1
    return False


def parse_json_body(body: bytes) -> Any:
    """The body's JSON value (None for an empty body), or a `RelayError` naming what was wrong."""
    if len(body) > MAX_BODY:
        raise RelayError(413, f"request body over {MAX_BODY} bytes; send at most {MAX_BODY}")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as err:
        raise RelayError(400, f"body is not valid UTF-8 (byte 0x{body[err.start]:02x} at offset {err.start}); send UTF-8 JSON")
    if not text.strip():
        return None
    if json_depth_exceeds(text):
        raise RelayError(400, f"body nests arrays/objects more than {MAX_DEPTH} deep; send a flatter JSON value")
    try:
        value = json.loads(
            text, parse_constant=_reject_constant, parse_float=_finite_float, parse_int=_bounded_int
        )
    except json.JSONDecodeError as err:
        raise RelayError(400, f"body is not valid JSON ({err.msg} at line {err.lineno} column {err.colno})")
    except ValueError as err:  # a constant, an out-of-range float, an integer too long to convert
        raise RelayError(400, f"body is not valid JSON ({err})")
    except RecursionError:  # unreachable after the depth scan; kept so deep input can never be a 500
        raise RelayError(400, f"body nests arrays/objects more than {MAX_DEPTH} deep; send a flatter JSON value")
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise RelayError(400, "body has an unpaired UTF-16 surrogate escape (\\ud800-\\udfff); send valid Unicode")
    return value


def query_arg(handler: Any, name: str, default: str) -> str:
    """The last `name` query argument as text, or a `RelayError` if it is not UTF-8."""
    values = handler.request.query_arguments.get(name)
    if not values:
        return default
    try:
        return values[-1].decode("utf-8")
    except UnicodeDecodeError:
        raise RelayError(400, f"query argument {name} is not valid UTF-8")
