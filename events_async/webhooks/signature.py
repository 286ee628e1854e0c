"""Twilio's webhook signature, checked the way that fails closed. Pure: no I/O.

Twilio appends `bodySHA256=<lowercase hex SHA-256 of the raw body>` to the sink's URL and
signs that whole URL: `X-Twilio-Signature = base64(HMAC-SHA1(auth token, URL))`. Its
own validators try the URL with and without the default port (443, 80), since Twilio
has signed both forms.

`verify_delivery` accepts a delivery only when everything holds: a signature is there;
a POST's URL carries exactly one `bodySHA256` and it is the hash of the raw bytes
received (never of a parsed body: that is the fail-open trap of twilio-python's generic
validator); and the signature matches one URL form under one of the tokens (several
during a rotation). Digests are compared in constant time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
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


def body_sha256(body: bytes) -> str:
    """The lowercase hex SHA-256 of the raw body, as Twilio puts it in `bodySHA256`."""
    return hashlib.sha256(body).hexdigest()


def signature_for(token: str, url: str) -> str:
    """`base64(HMAC-SHA1(token, url))`: the `X-Twilio-Signature` of a delivery to `url`."""
    digest = hmac.new(token.encode("utf-8"), url.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def signed_url(destination: str, body: bytes) -> str:
    """`destination` with `bodySHA256` appended, as Twilio signs a POST delivery."""
    joiner = "&" if urlsplit(destination).query else "?"
    return f"{destination}{joiner}{urlencode({BODY_HASH_PARAMETER: body_sha256(body)})}"


def url_forms(url: str, parts: SplitResult | None = None) -> list[str]:
    """`url` as given, then with its default port added or removed (`:443`, `:80`);
    `parts` is `urlsplit(url)`, when the caller has it."""
    parts = parts or urlsplit(url)
    default = _DEFAULT_PORTS.get(parts.scheme.lower())
    try:
        port = parts.port
    except ValueError:
        return [url]
    if default is None or parts.hostname is None or (port is not None and port != default):
        return [url]
    userinfo, _, hostport = parts.netloc.rpartition("@")
    prefix = f"{userinfo}@" if userinfo else ""
    if port is None:
        other = f"{prefix}{hostport}:{default}"
    else:
        other = prefix + hostport[: hostport.rindex(":")]
    return [url, urlunsplit(parts._replace(netloc=other))]


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
    saw them); `body` the raw bytes of a POST, or None for a GET (URL and query only).
    """
    if not tokens or not all(isinstance(t, str) and t for t in tokens):
        raise SignatureError("no auth token to check signatures with")
    if not signature:
        raise SignatureError(f"the delivery has no {SIGNATURE_HEADER} header")
    parts = urlsplit(url)
    if body is not None:
        hashes = parse_qs(parts.query, keep_blank_values=True).get(BODY_HASH_PARAMETER)
        if not hashes:
            raise SignatureError(f"the delivery's URL has no {BODY_HASH_PARAMETER}")
        if len(hashes) != 1:
            raise SignatureError(f"the delivery's URL has more than one {BODY_HASH_PARAMETER}")
        if not _same(hashes[0].lower(), body_sha256(body)):
            raise SignatureError(f"the body does not match the URL's {BODY_HASH_PARAMETER}")
    matched = False
    for form in url_forms(url, parts):
        for token in tokens:
            matched |= _same(signature, signature_for(token, form))  # no early exit
    if not matched:
        raise SignatureError(f"the {SIGNATURE_HEADER} does not match this URL and token")
