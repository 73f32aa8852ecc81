"""Request bodies are read here, for every route: JSON in UTF-8, decoded straight into the
route's `data` type and strictly (a number in quotes is not a number). Litestar alone decodes
untyped, then converts leniently ("10" becomes 10), and lets a body nested 100,000 deep or one
with bytes that are not UTF-8 escape as a 500."""

from __future__ import annotations

from functools import cache
from typing import Any

import msgspec
from litestar import Request
from litestar.exceptions import ClientException
from litestar.types import Empty

from app.problems import invalid_body


class StrictJsonRequest(Request[Any, Any, Any]):
    async def json(self) -> Any:
        if self._json is Empty:
            if (decoded := self._connection_state.json) is Empty:
                decoded = self._connection_state.json = _decode(
                    await self.body(), self._data_type()
                )
            self._json = decoded
        return self._json

    def _data_type(self) -> Any:
        data = self.route_handler.parsed_fn_signature.parameters.get("data")
        return Any if data is None else data.annotation


def _decode(body: bytes, data_type: Any) -> Any:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ClientException(
            f"The body is not UTF-8 text (byte {exc.start} is not part of a character); "
            "JSON is sent in UTF-8."
        ) from None
    try:
        return _decoder(data_type).decode(text)
    except msgspec.ValidationError as exc:
        raise invalid_body(str(exc)) from None
    except msgspec.DecodeError as exc:
        raise ClientException(f"The body is not valid JSON: {exc}.") from None
    except RecursionError:
        raise ClientException("The body is nested too deeply to be read.") from None


@cache
def _decoder(data_type: Any) -> msgspec.json.Decoder[Any]:
    """One decoder per body type, made once: a pure function of the type."""
    return msgspec.json.Decoder(data_type, strict=True)
