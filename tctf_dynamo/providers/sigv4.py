"""botocore's SigV4 signature, computed with less Python per request.

Why it exists: signing a data-plane request through botocore's ``SigV4Auth`` costs about
as much client CPU as encoding its 25 items, mostly in bookkeeping that gives the same
answer every time: the header map is rebuilt (as an ``email.message`` object) twice per
signature, the URL is split and its path normalised for every request, and the signing
key is derived with four HMACs although it only changes with the date, the secret key,
the region and the service. Two more steps cost as much as the rest: the payload hash
reads ``request.body``, which *prepares* the whole request (a header map copy and a URL
check) only to hand the bytes back; and every header read or write of botocore's
``HTTPHeaders`` goes through ``email.message``'s policy machinery.

:class:`FastSigV4Auth` is botocore's ``SigV4Auth`` with exactly those steps replaced by
equivalent ones (the same canonical request, string to sign and ``Authorization``
header, byte for byte; the tests compare them against botocore's own class). Everything
else is botocore's code: the timestamp, the date and token headers, the unsigned and
streaming payload rules, the logging. The payload hash is taken of the request's bytes
themselves, and a request whose headers are a :class:`SigningHeaders` (what
:class:`~tctf_dynamo.providers.wire.WireClient` builds) is read without
``email.message``. :func:`fast_signer` wraps a client's request signer so its ``sign`` runs
unchanged (the ``choose-signer`` and ``before-sign`` events fire, the signing context's
region and name apply, refreshable credentials are frozen as before) and only a plain
``SigV4Auth`` it picks is swapped for this one; any other signer is used as it is.
"""

from __future__ import annotations

import functools
import hmac
from collections.abc import Iterable, Iterator, Mapping
from hashlib import sha256
from typing import Any, Final
from urllib.parse import quote, urlsplit

import botocore.auth
from botocore.auth import EMPTY_SHA256_HASH, SIGNED_HEADERS_BLACKLIST, SigV4Auth
from botocore.signers import RequestSigner
from botocore.utils import normalize_url_path

__all__ = ["FastSigV4Auth", "SigningHeaders", "fast_signer"]

_KEY_CACHE_SIZE: Final = 16
_BOTOCORE_AUTH: Any = botocore.auth  # the host rule is private to it


class SigningHeaders:
    """A request's headers as botocore's ``HTTPHeaders`` behaves, for the steps of signing
    and sending, without ``email.message``.

    The same rules: names match case-insensitively and keep the spelling they were set
    with; setting a name *adds* a value (repeated names keep every value, in order, as
    the signature sees them); deleting a name removes all its values; reading a missing
    name gives None. Only the methods botocore's signer, its endpoint's
    ``prepare_request`` and ``before-sign`` handlers call on headers are provided.
    """

    __slots__ = ("_pairs", "version")

    def __init__(self, headers: Mapping[str, Any] | None = None) -> None:
        self._pairs: list[tuple[str, Any]] = list(headers.items()) if headers else []
        self.version = 0
        """Changes with every change of the headers (the signer keeps what it derived
        from them for as long as it is the same)."""

    def __getitem__(self, name: str) -> Any:
        return self.get(name)

    def __setitem__(self, name: str, value: Any) -> None:
        self._pairs.append((name, value))
        self.version += 1

    def __delitem__(self, name: str) -> None:
        lname = name.lower()
        self._pairs = [pair for pair in self._pairs if pair[0].lower() != lname]
        self.version += 1

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        return name.lower() in [key.lower() for key, _ in self._pairs]

    def __iter__(self) -> Iterator[str]:
        return iter([key for key, _ in self._pairs])

    def __len__(self) -> int:
        return len(self._pairs)

    def get(self, name: str, default: Any = None) -> Any:
        lname = name.lower()
        for key, value in self._pairs:
            if key.lower() == lname:
                return value
        return default

    def get_all(self, name: str, default: Any = None) -> Any:
        lname = name.lower()
        values = [value for key, value in self._pairs if key.lower() == lname]
        return values or default

    def keys(self) -> list[str]:
        return [key for key, _ in self._pairs]

    def values(self) -> list[Any]:
        return [value for _, value in self._pairs]

    def items(self) -> list[tuple[str, Any]]:
        """A copy: botocore's endpoint sets values while it walks them."""
        return list(self._pairs)

    def replace_header(self, name: str, value: Any) -> None:
        """Replace the first value of ``name``; KeyError when it is not set."""
        lname = name.lower()
        for position, (key, _) in enumerate(self._pairs):
            if key.lower() == lname:
                self._pairs[position] = (key, value)
                self.version += 1
                return
        raise KeyError(name)

    def add_header(self, name: str, value: Any) -> None:
        self[name] = value

    def update(self, headers: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> None:
        pairs = headers.items() if isinstance(headers, Mapping) else headers
        for name, value in pairs:
            self[name] = value

    def __repr__(self) -> str:
        return f"SigningHeaders({self._pairs!r})"


class _HeadersToSign:
    """The lower-cased headers to sign, as botocore's ``HTTPHeaders`` map holds them
    (repeated names keep every value, in order), without the ``email.message`` cost."""

    __slots__ = ("canonical", "signed", "values")

    def __init__(self, values: dict[str, list[str]]) -> None:
        self.values = values
        self.canonical: str | None = None
        self.signed: str | None = None

    def __iter__(self) -> Iterator[str]:
        return iter(self.values)

    def __contains__(self, name: object) -> bool:
        return name in self.values

    def get_all(self, name: str) -> list[str]:
        return self.values[name]


@functools.lru_cache(maxsize=64)
def _url_parts(url: str) -> tuple[str, str, str]:
    """The normalised path and the query string of ``url`` (as ``SigV4Auth`` derives
    them), and the host header botocore would sign when none is set."""
    parts = urlsplit(url)
    return (
        quote(normalize_url_path(parts.path), safe="/~"),
        parts.query,
        _BOTOCORE_AUTH._host_from_url(url),
    )


@functools.lru_cache(maxsize=_KEY_CACHE_SIZE)
def _signing_key(secret_key: str, date: str, region: str, service: str) -> bytes:
    """The SigV4 signing key: four HMACs that change only with these four values."""
    key = hmac.new(f"AWS4{secret_key}".encode(), date.encode("utf-8"), sha256).digest()
    for part in (region, service, "aws4_request"):
        key = hmac.new(key, part.encode("utf-8"), sha256).digest()
    return key


class FastSigV4Auth(SigV4Auth):
    """``SigV4Auth`` with the per-request constant work done once (same signature).

    botocore derives the headers to sign, and their canonical and signed forms, twice
    per signature (for the canonical request, then for the ``Authorization`` header).
    For a request whose headers are a :class:`SigningHeaders`, the first answer is kept
    while those headers stay the same object at the same version.
    """

    _last: tuple[Any, SigningHeaders, int, _HeadersToSign] | None = None

    def headers_to_sign(self, request: Any) -> Any:
        headers = request.headers
        if type(headers) is not SigningHeaders:
            return self._headers_to_sign(request, headers.items())
        last = self._last
        if (
            last is not None
            and last[0] is request
            and last[1] is headers
            and last[2] == headers.version
        ):
            return last[3]
        derived = self._headers_to_sign(request, headers._pairs)
        if type(derived) is _HeadersToSign:
            self._last = (request, headers, headers.version, derived)
        return derived

    def canonical_headers(self, headers_to_sign: Any) -> str:
        if type(headers_to_sign) is not _HeadersToSign:
            return str(super().canonical_headers(headers_to_sign))
        if headers_to_sign.canonical is None:
            values = headers_to_sign.values
            headers_to_sign.canonical = "\n".join(
                f"{name}:{','.join(' '.join(value.split()) for value in values[name])}"
                for name in sorted(values)
            )
        return headers_to_sign.canonical

    def signed_headers(self, headers_to_sign: Any) -> str:
        if type(headers_to_sign) is not _HeadersToSign:
            return str(super().signed_headers(headers_to_sign))
        if headers_to_sign.signed is None:
            names = sorted(name.strip() for name in headers_to_sign.values)
            headers_to_sign.signed = ";".join(names)
        return headers_to_sign.signed

    def _headers_to_sign(self, request: Any, pairs: Iterable[tuple[str, Any]]) -> Any:
        values: dict[str, list[str]] = {}
        for name, value in pairs:
            if not isinstance(value, str) or not value.isascii():
                return super().headers_to_sign(request)  # botocore's own handling
            lname = name.lower()
            if lname not in SIGNED_HEADERS_BLACKLIST:
                values.setdefault(lname, []).append(value)
        if "host" not in values:
            values["host"] = [_url_parts(request.url)[2]]
        return _HeadersToSign(values)

    def canonical_request(self, request: Any) -> str:
        if request.params:
            return str(super().canonical_request(request))
        path, query, _ = _url_parts(request.url)
        internals: Any = self
        headers = self.headers_to_sign(request)
        if "X-Amz-Content-SHA256" in request.headers:
            body_checksum = request.headers["X-Amz-Content-SHA256"]
        else:
            body_checksum = self.payload(request)
        return "\n".join(
            (
                request.method.upper(),
                path,
                internals._canonical_query_string_url(_Query(query)) if query else "",
                self.canonical_headers(headers) + "\n",
                self.signed_headers(headers),
                body_checksum,
            )
        )

    def payload(self, request: Any) -> str:
        """The SHA-256 of the body, taken of the request's bytes as they are.

        botocore reads ``request.body``, which prepares the whole request to return
        those same bytes (``b""`` becomes no body: the empty hash either way). Anything
        but plain bytes, and the unsigned and streaming cases, are botocore's. The bytes
        go to ``hashlib`` whole: feeding it 2047-byte slices (so that it keeps the GIL)
        measured 8-10% slower for 5-200 KB bodies on one thread.
        """
        internals: Any = self
        data = request.data
        if type(data) is not bytes or internals._is_streaming_checksum_payload(request):
            return str(super().payload(request))
        if not internals._should_sha256_sign_payload(request):
            return str(super().payload(request))
        return sha256(data).hexdigest() if data else EMPTY_SHA256_HASH

    def signature(self, string_to_sign: str, request: Any) -> str:
        internals: Any = self
        key = _signing_key(
            self.credentials.secret_key,
            request.context["timestamp"][0:8],
            internals._region_name,
            internals._service_name,
        )
        return hmac.new(key, string_to_sign.encode("utf-8"), sha256).hexdigest()


class _Query:
    """What ``SigV4Auth._canonical_query_string_url`` reads of a split URL."""

    __slots__ = ("query",)

    def __init__(self, query: str) -> None:
        self.query = query


class _FastSigner:
    """A client's request signer whose plain SigV4 signatures use :class:`FastSigV4Auth`.

    ``sign`` is botocore's ``RequestSigner.sign`` run on this wrapper, so every step of it
    reads the wrapped signer's live state (credentials swapped in later included).
    """

    def __init__(self, signer: RequestSigner) -> None:
        self._signer = signer

    def __getattr__(self, name: str) -> Any:
        return getattr(self._signer, name)

    def sign(self, operation_name: str, request: Any) -> None:
        RequestSigner.sign(self, operation_name, request)  # type: ignore[arg-type]

    def get_auth_instance(self, **kwargs: Any) -> Any:
        auth = self._signer.get_auth_instance(**kwargs)
        if type(auth) is SigV4Auth:
            auth.__class__ = FastSigV4Auth
        return auth


def fast_signer(signer: Any) -> Any:
    """``signer`` wrapped as above when it is botocore's own ``RequestSigner`` (a
    subclass or a stand-in may sign differently, so it is returned as it is)."""
    if type(signer) is RequestSigner:
        return _FastSigner(signer)
    return signer
