"""What went wrong on a remote, in one line: library exceptions (fsspec, s3fs, botocore,
aiohttp, OSError) mapped to `RemoteError` subclasses that name the remote, and the retry
of reads cut short by a dropped connection.

Exceptions are recognised by class name and error code, never by importing the library
that raised them: this module costs nothing to import.
"""

from __future__ import annotations

import contextlib
import errno
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

from gitml.errors import (
    IntegrityError,
    ObjectNotFoundError,
    RemoteAuthError,
    RemoteError,
    RemoteNotFoundError,
    RemotePermissionError,
    RemoteUnreachableError,
)
from gitml.hashing import Oid

_T = TypeVar("_T")

READ_ATTEMPTS = 4
READ_BACKOFF = 0.25  # seconds before the 2nd attempt; doubles each time (1.75 s in all)
_TRANSIENT = {
    "ClientPayloadError",  # aiohttp: "Response payload is not completed"
    "ServerDisconnectedError",
    "ClientOSError",
    "ConnectionResetError",
    "BrokenPipeError",
    "ConnectionClosedError",
    "ResponseStreamingError",
    "IncompleteReadError",
    "IncompleteRead",
    "ProtocolError",
    "ReadTimeoutError",
    "CutShortError",
}
_AUTH_CODES = {
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "InvalidToken",
    "TokenRefreshRequired",
    "RequestTimeTooSkewed",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
}
_FULL = (errno.ENOSPC, errno.EDQUOT)


class CutShortError(RemoteError):
    """A read that returned fewer bytes than asked: a transfer fault, not the remote's."""


def named(oid: Oid, label: str) -> str:
    """An object as messages name it: its id, and the workspace path using it if known."""
    return f"object {oid} ({label})" if label else f"object {oid}"


def retry_reads(read: Callable[[], _T]) -> _T:
    """`read()`, again after a dropped connection or a short answer: at most READ_ATTEMPTS
    times with doubling pauses (writes are retried by botocore and s3fs)."""
    for attempt in range(READ_ATTEMPTS):
        try:
            return read()
        except Exception as exc:
            if attempt == READ_ATTEMPTS - 1 or not _transient(exc):
                raise
            time.sleep(READ_BACKOFF * 2**attempt)
    raise AssertionError("unreachable")


def _transient(exc: BaseException) -> bool:
    probe: BaseException | None = exc
    seen: list[BaseException] = []
    while probe is not None and probe not in seen:
        if any(base.__name__ in _TRANSIENT for base in type(probe).__mro__):
            return True
        seen.append(probe)
        probe = probe.__cause__ or probe.__context__
    return False


def is_missing_bucket(exc: BaseException) -> bool:
    """A FileNotFoundError that means the bucket is gone, not just one key."""
    cause = exc.__cause__
    code = _error_code(cause) if cause is not None else None
    return code == "NoSuchBucket" or "bucket does not exist" in str(exc).lower()


def _error_code(exc: BaseException | None) -> str | None:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        error = response.get("Error", {})
        if isinstance(error, dict):
            code = error.get("Code")
            return str(code) if code is not None else None
    return None


def translate(name: str, what: str, exc: BaseException, where: str = "") -> RemoteError | None:
    """Map a library exception to a one-line RemoteError naming the remote (None: not ours)."""
    if isinstance(exc, RemoteError):
        return exc
    chain: list[BaseException] = []
    probe: BaseException | None = exc
    while probe is not None and probe not in chain:
        chain.append(probe)
        probe = probe.__cause__ or probe.__context__
    names = {base.__name__ for e in chain for base in type(e).__mro__}
    codes = {c for c in (_error_code(e) for e in chain) if c}
    if names & {
        "NoCredentialsError",
        "PartialCredentialsError",
        "ProfileNotFound",
        "NoAuthTokenError",
        "CredentialRetrievalError",
    }:
        return RemoteAuthError(
            f"remote '{name}': no usable credentials ({_first_line(exc)})",
            hint=f"set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or "
            f"'gitml remote modify --local {name} profile NAME'",
        )
    if codes & _AUTH_CODES:
        code = sorted(codes & _AUTH_CODES)[0]
        return RemoteAuthError(f"remote '{name}': credentials rejected ({code})")
    if codes & {"AccessDenied", "AllAccessDisabled", "AccountProblem"}:
        return RemotePermissionError(f"remote '{name}': permission denied while {what}")
    if codes & {"Forbidden", "403"}:  # a HEAD's 403 has no body: a bad key looks the same
        return RemotePermissionError(
            f"remote '{name}': credentials rejected or no permission while {what} (HTTP 403)"
        )
    if "NoSuchBucket" in codes or (isinstance(exc, FileNotFoundError) and is_missing_bucket(exc)):
        bucket = where.split("/", 1)[0] if where else "?"
        return RemoteNotFoundError(f"remote '{name}': bucket '{bucket}' does not exist")
    if names & {
        "EndpointConnectionError",
        "ConnectTimeoutError",
        "ConnectionClosedError",
        "ClientConnectorError",
        "ServerDisconnectedError",
        "ConnectionRefusedError",
        "ConnectionResetError",
        "gaierror",
        "TimeoutError",
        "FSTimeoutError",
        "ReadTimeoutError",
        "ClientConnectionError",
        "ProxyConnectionError",
    }:
        return RemoteUnreachableError(
            f"remote '{name}' is unreachable while {what}: {_first_line(exc)}"
        )
    full = next((e for e in chain if isinstance(e, OSError) and e.errno in _FULL), None)
    if full is not None:
        if what.startswith(("downloading", "reading", "opening")):  # into the local cache
            return RemoteError(f"no space left on device in the local cache while {what}")
        return RemoteError(
            f"remote '{name}' is full: no space left on device at {where or 'the remote'} "
            f"while {what}"
        )
    if isinstance(exc, PermissionError):
        target = f": {exc.filename}" if exc.filename else ""
        return RemotePermissionError(f"remote '{name}': permission denied while {what}{target}")
    if isinstance(exc, OSError) or names & {"BotoCoreError", "ClientError", "ClientResponseError"}:
        return RemoteError(f"remote '{name}': {what} failed: {_first_line(exc)}")
    return None


def _first_line(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        text = exc.strerror + (f": {exc.filename}" if exc.filename else "")
    else:
        text = str(exc) or type(exc).__name__
    line = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return line[:300]


@contextlib.contextmanager
def translated(name: str, what: str, where: str = "") -> Iterator[None]:
    """Re-raise library exceptions raised while `what` as RemoteErrors (`translate`)."""
    try:
        yield
    except (IntegrityError, ObjectNotFoundError, RemoteError):
        raise
    except Exception as exc:
        mapped = translate(name, what, exc, where)
        if mapped is None:
            raise
        raise mapped from exc
