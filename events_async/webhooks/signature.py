"""Twilio's webhook signature, checked the way that fails closed. Pure: no I/O.

Twilio appends `bodySHA256=<lowercase hex SHA-256 of the raw body>` to the sink's URL and
signs that whole URL: `X-Twilio-Signature = base64(HMAC-SHA1(auth token, URL))`. Its
own validators try the URL with and without the default port (443, 80), since Twilio
has signed both forms.

Twilio has also been seen signing one percent-escaping of a URL's query and requesting
another (twilio-node issues 1059 and 1183: `'` signed, `%27` requested, and `@`/`:` the
other way round). So the query is also tried with the characters RFC 3986 allows bare in
a query but encoders treat differently — `' ! ( ) * : @` — all unescaped, all escaped,
and as JavaScript's `encodeURIComponent` (`:@` escaped) and the WHATWG URL parser (`'`
escaped) write them. Only the query varies: another path, host or non-default port never matches.

`verify_delivery` accepts a delivery only when everything holds: a signature is there;
a delivery with a body (every POST, and a GET that carries one) has exactly one
`bodySHA256` in its URL and it is the hash of the raw bytes received (never of a parsed
body: that is the fail-open trap of twilio-python's generic validator), so no byte a
handler sees is unsigned; and the signature matches one URL form under one of the tokens
(several during a rotation). Every form is tried under every token, with no early exit,
and digests are compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from binascii import b2a_base64
from collections.abc import Sequence
from urllib.parse import SplitResult, parse_qs, urlencode, urlsplit, urlunsplit

from ..errors import SignatureError

__all__ = [
    "BODY_HASH_PARAMETER",
    "SIGNATURE_HEADER",
    "body_sha256",
    "signature_for",
    "signed_url",
    "url_forms",
    "verify_delivery",
]

SIGNATURE_HEADER = "X-Twilio-Signature"
BODY_HASH_PARAMETER = "bodySHA256"
_DEFAULT_PORTS = {"https": 443, "http": 80}
_LOOSE = "'!()*:@"  # allowed bare in a query (RFC 3986), escaped by some encoders
_ESCAPED = re.compile("|".join(f"%{ord(c):02X}" for c in _LOOSE), re.IGNORECASE)


def body_sha256(body: bytes) -> str:
    """The lowercase hex SHA-256 of the raw body, as Twilio puts it in `bodySHA256`."""
    return hashlib.sha256(body).hexdigest()


def signature_for(token: str, url: str) -> str:
    """`base64(HMAC-SHA1(token, url))`: the `X-Twilio-Signature` of a delivery to `url`."""
    return _signature(token.encode("utf-8"), url.encode("utf-8")).decode("ascii")


def _signature(key: bytes, message: bytes) -> bytes:
    # hmac.digest by digest name: OpenSSL's one-shot HMAC, without building an hmac.HMAC
    # object (hmac.new(...).digest() costs ~3x as much here), the same bytes.
    return b2a_base64(hmac.digest(key, message, "sha1"), newline=False)


def signed_url(destination: str, body: bytes) -> str:
    """`destination` with `bodySHA256` appended, as Twilio signs a POST delivery."""
    joiner = "&" if urlsplit(destination).query else "?"
    return f"{destination}{joiner}{urlencode({BODY_HASH_PARAMETER: body_sha256(body)})}"


def _port_forms(url: str, parts: SplitResult) -> list[str]:
    """`url` as given, then with its default port added or removed (`:443`, `:80`)."""
    default = _DEFAULT_PORTS.get(parts.scheme.lower())
    if default is None:
        return [url]
    try:
        port = parts.port
    except ValueError:
        return [url]
    if (port is not None and port != default) or parts.hostname is None:
        return [url]  # (hostname last: each of these properties splits the netloc again)
    userinfo, _, hostport = parts.netloc.rpartition("@")
    prefix = f"{userinfo}@" if userinfo else ""
    if port is None:
        other = f"{prefix}{hostport}:{default}"
    else:
        other = prefix + hostport[: hostport.rindex(":")]
    return [url, urlunsplit(parts._replace(netloc=other))]


def _escape(chars: str) -> re.Pattern[str]:
    return re.compile("[" + re.escape(chars) + "]")


_STYLES = (_escape(_LOOSE), _escape(":@"), _escape("'"))
"""Which loose characters each encoder escapes: all of them; JavaScript's
`encodeURIComponent` (`:` and `@`, not `'!()*`); the WHATWG URL parser (only `'`)."""


def _loose(query: str) -> bool:
    """A loose character in `query`, bare or escaped: seven substring tests, and the
    escapes' pattern only when there is a `%` (~1k instructions for a delivery's query,
    where a pass of each pattern over it cost ~4.5k)."""
    for char in _LOOSE:
        if char in query:
            return True
    return "%" in query and _ESCAPED.search(query) is not None


def _query_forms(url: str, query: str) -> list[str]:
    """`url`, then with its query's loose characters all unescaped, and as each common
    encoder writes them (only the forms that differ)."""
    if not query or not _loose(query):
        return [url]
    head = url[: len(url) - len(query)]
    bare = _ESCAPED.sub(lambda m: chr(int(m.group()[1:], 16)), query)
    forms = [url, head + bare]
    for style in _STYLES:
        form = head + style.sub(lambda m: f"%{ord(m.group()):02X}", bare)
        if form not in forms:
            forms.append(form)
    return forms


def url_forms(url: str, parts: SplitResult | None = None) -> list[str]:
    """Every form of `url` that Twilio may have signed: as given, with the default port
    added or removed, and with its query's loose characters unescaped or escaped;
    `parts` is `urlsplit(url)`, when the caller has it."""
    parts = parts or urlsplit(url)
    query = "" if parts.fragment else parts.query
    return [form for base in _port_forms(url, parts) for form in _query_forms(base, query)]


_PLAIN_URL = re.compile(
    r"(https?)://([A-Za-z0-9.\-]+)(?::([0-9]+))?(/[!-\"$-\>@-~]*)?(?:\?([!-\"$-~]*))?"
)
"""A URL as a receiver sees it: http(s), a host name or IPv4 address and port, printable
ASCII without a fragment; for these urlsplit's answer is the groups as they stand
(scheme, host, port, path, query)."""


def _plain_forms(url: str, plain: re.Match[str]) -> list[str]:
    """`url_forms(url)` for a URL `_PLAIN_URL` matched, read from the match (no
    `SplitResult`, no `port` or `hostname` property splitting the netloc again): the
    default port added or removed by splicing where the host ends, then the query's forms."""
    scheme, _, port, _, query = plain.groups()
    default = 443 if scheme == "https" else 80
    if port is not None and int(port) != default:
        return _query_forms(url, query or "")  # another port: the only form (it was signed so)
    host_end = plain.end(2)
    rest = url[host_end if port is None else plain.end(3) :]
    if query == "":
        rest = rest[:-1]  # a bare "?" left off, as urlunsplit writes the other form
    other = url[:host_end] + (f":{default}" if port is None else "") + rest
    return [form for base in (url, other) for form in _query_forms(base, query or "")]


def _body_hashes(query: str) -> list[str]:
    """The query's `bodySHA256` values, as `parse_qs(query, keep_blank_values=True)`
    reads them; a query without `%` or `+` needs no unquoting, so it is split directly
    (parse_qs costs ~5 µs, a tenth of the receiver's own work on a delivery)."""
    if "%" in query or "+" in query:
        return parse_qs(query, keep_blank_values=True).get(BODY_HASH_PARAMETER, [])
    hashes = []
    for field in query.split("&"):
        name, _, value = field.partition("=")
        if name == BODY_HASH_PARAMETER:
            hashes.append(value)
    return hashes


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode("ascii"))


def verify_delivery(
    *,
    url: str,
    body: bytes | None,
    signature: str | None,
    tokens: Sequence[str],
) -> None:
    """Raise `SignatureError` unless Twilio signed this delivery with one of `tokens`.

    `url` is the full URL Twilio delivered to (scheme, host, path and query as Twilio
    saw them); `body` the raw bytes received, or None when the request had none (a GET:
    URL and query only). Any body, even an empty one, must be covered by `bodySHA256`.
    """
    keys = [token.encode("utf-8") for token in tokens if isinstance(token, str) and token]
    if not keys or len(keys) != len(tokens):
        raise SignatureError("no auth token to check signatures with")
    if not signature:
        raise SignatureError(f"the delivery has no {SIGNATURE_HEADER} header")
    plain = _PLAIN_URL.fullmatch(url)
    parts = None
    if plain is not None:
        query = plain[5] or ""
    else:
        parts = urlsplit(url)
        query = parts.query
    if body is not None:
        hashes = _body_hashes(query)
        if not hashes:
            raise SignatureError(f"the delivery's URL has no {BODY_HASH_PARAMETER}")
        if len(hashes) != 1:
            raise SignatureError(f"the delivery's URL has more than one {BODY_HASH_PARAMETER}")
        if not _same(hashes[0].lower(), body_sha256(body)):
            raise SignatureError(f"the body does not match the URL's {BODY_HASH_PARAMETER}")
    forms = _plain_forms(url, plain) if plain is not None else url_forms(url, parts)
    given = signature.encode("utf-8", "surrogatepass")
    matched = False
    for form in forms:
        message = form.encode("utf-8")
        for key in keys:
            matched |= hmac.compare_digest(given, _signature(key, message))  # no early exit
    if not matched:
        raise SignatureError(f"the {SIGNATURE_HEADER} does not match this URL and token")
