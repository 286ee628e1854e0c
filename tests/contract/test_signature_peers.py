"""The webhook signature against Twilio's own validator (twilio-python's `RequestValidator`):
whenever it calls a genuine delivery valid, `verify_delivery` does too; but never for
another path, host, scheme, non-default port, token or body (the official validators
strip *any* port; ours must not)."""

from __future__ import annotations

import hashlib
import string
from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from events_async.errors import SignatureError
from events_async.webhooks.signature import verify_delivery

PEERS = settings(
    max_examples=60,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TOKEN = "peers-auth-token"


# Signatures: against twilio-python's RequestValidator -------------------------------------------

HOSTS = ["events.example.com", "127.0.0.1", "sub.host-1.example", "[::1]"]
QUERY_ATOMS = ["a", "Z", "9", "'", "!", "(", ")", "*", ":", "@", "%27", "%40", "+", " ", "%20", "-"]


@st.composite
def destinations(draw: st.DrawFn) -> tuple[str, str, str, str, str]:
    """A sink destination: (scheme, host, port as written, path, query)."""
    scheme = draw(st.sampled_from(["https", "http"]))
    host = draw(st.sampled_from(HOSTS))
    port = draw(st.sampled_from(["", "", ":443", ":80", ":8443", ":1"]))
    path = "/" + draw(st.text(string.ascii_letters + string.digits + "-._~", max_size=10))
    pairs = draw(
        st.lists(
            st.tuples(
                st.text(string.ascii_lowercase, min_size=1, max_size=4),
                st.lists(st.sampled_from(QUERY_ATOMS), max_size=6).map("".join),
            ),
            max_size=3,
        )
    )
    return scheme, host, port, path, "&".join(f"{k}={v}" for k, v in pairs)


def default_port(scheme: str) -> str:
    return ":443" if scheme == "https" else ":80"


def twilio_signs(destination: str, body: str, token: str) -> tuple[str, str]:
    """The URL Twilio signs for a POST of `body`, and its signature (twilio-python's)."""
    digest = hashlib.sha256(body.encode()).hexdigest()
    url = f"{destination}{'&' if '?' in destination else '?'}bodySHA256={digest}"
    return url, RequestValidator(token).compute_signature(url, {})


def ours_accepts(url: str, body: str, signature: str, tokens: list[str]) -> bool:
    try:
        verify_delivery(url=url, body=body.encode(), signature=signature, tokens=tokens)
    except SignatureError:
        return False
    return True


tokens_ = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=12)
bodies = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)


def make_url(scheme: str, authority: str, path: str, query: str) -> str:
    return f"{scheme}://{authority}{path}" + (f"?{query}" if query else "")


@PEERS
@given(destinations(), bodies, tokens_)
def test_whatever_twilio_python_accepts_as_genuine_we_accept(
    parts: tuple[str, str, str, str, str], body: str, token: str
) -> None:
    scheme, host, port, path, query = parts
    signed, signature = twilio_signs(make_url(scheme, host + port, path, query), body, token)
    official = RequestValidator(token)
    assert official.validate(signed, body, signature)  # the oracle agrees it is genuine

    requested = [signed]
    if port in ("", default_port(scheme)):  # Twilio has signed both forms of a default port
        other = "" if port else default_port(scheme)
        requested.append(twilio_signs(make_url(scheme, host + other, path, query), body, token)[0])
    for target in requested:
        if official.validate(target, body, signature):
            assert ours_accepts(target, body, signature, [token]), target
            assert ours_accepts(target, body, signature, ["an old token", token]), target


def loose_forms(target: str) -> list[str]:
    """`target` with the query's `' ! ( ) * : @` all bare, then all escaped: the escapings
    Twilio has been seen to sign one of and request the other (twilio-node 1059, 1183)."""
    head, _, query = target.partition("?")
    bare = query
    for char in "'!()*:@":
        bare = bare.replace(f"%{ord(char):02X}", char).replace(f"%{ord(char):02x}", char)
    escaped = "".join(f"%{ord(c):02X}" if c in "'!()*:@" else c for c in bare)
    return [f"{head}?{bare}", f"{head}?{escaped}"]


@PEERS
@given(destinations(), bodies, tokens_)
def test_a_genuine_delivery_requested_in_another_escaping_verifies(
    parts: tuple[str, str, str, str, str], body: str, token: str
) -> None:
    scheme, host, port, path, query = parts
    bare_query = loose_forms(f"x?{query}")[0].partition("?")[2]
    destination = make_url(scheme, host + port, path, bare_query)
    signed, signature = twilio_signs(destination, body, token)  # signed with every char bare
    for requested in loose_forms(signed):
        assert ours_accepts(requested, body, signature, [token]), requested


@PEERS
@given(destinations(), bodies, tokens_, st.data())
def test_never_for_another_path_host_scheme_port_token_or_body(
    parts: tuple[str, str, str, str, str], body: str, token: str, data: st.DataObject
) -> None:
    scheme, host, port, path, query = parts
    signed, signature = twilio_signs(make_url(scheme, host + port, path, query), body, token)
    official = RequestValidator(token)

    def moved(scheme_: str, authority: str, path_: str) -> str:
        """The URL Twilio would sign for the same body at another destination."""
        return twilio_signs(make_url(scheme_, authority, path_, query), body, token)[0]

    other_host = data.draw(st.sampled_from([h for h in HOSTS if h != host]))
    other_scheme = "http" if scheme == "https" else "https"
    forgeries = {
        "path": moved(scheme, host + port, path + "x"),
        "path case": moved(scheme, host + port, path.upper() + "/"),
        "host": moved(scheme, other_host + port, path),
        "scheme": moved(other_scheme, host + port, path),
    }
    if port not in ("", default_port(scheme)):
        forgeries["non-default port removed"] = moved(scheme, host, path)
        forgeries["non-default port changed"] = moved(scheme, host + ":9443", path)
    else:
        stranger = moved(scheme, host + ":8443", path)
        forgeries["non-default port added"] = stranger
        if not port and not host.startswith("["):  # (its port stripping breaks on IPv6)
            # twilio-python strips any port, so it calls this replay to another port valid
            assert official.validate(stranger, body, signature)
    for what, target in forgeries.items():
        assert not ours_accepts(target, body, signature, [token]), what

    assert not ours_accepts(signed, body, signature, [token + "x"]), "token"
    assert not ours_accepts(signed, body + "x", signature, [token]), "body"
    rehashed = twilio_signs(make_url(scheme, host + port, path, query), body + "x", token)[0]
    assert not ours_accepts(rehashed, body + "x", signature, [token]), "body, hash replaced"


def test_a_mixed_escaping_requested_with_its_apostrophe_escaped_verifies() -> None:
    body = '[{"specversion":"1.0","id":"1","source":"/s","type":"t"}]'
    note = quote("it's (1)", safe="!'()*-._~")  # encodeURIComponent: it's%20(1)
    mail = quote("a@b.example", safe="!'()*-._~")  # a%40b.example
    signed, signature = twilio_signs(
        f"https://events.example.com/hook?note={note}&mail={mail}", body, TOKEN
    )
    requested = signed.replace("'", "%27")
    assert ours_accepts(requested, body, signature, [TOKEN])
