"""The admin and setup pages' urlencoded forms, read with a bound.

Their ports read a form before they know who sent it (the sign-in form, the setup form): read
whole, one request could hold the process's memory. A form is a few fields.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from fastapi import HTTPException, Request

from bot.numbers import over

#: the most a form may send: its fields are a token, a name, a few choices
MAX_FORM_BYTES = 16 * 1024


async def read_form(request: Request, limit: int = MAX_FORM_BYTES) -> dict[str, str]:
    """The form's fields (the last of a field sent twice); 413 past `limit` bytes, as declared
    or as they arrive; 400 when it is not UTF-8."""
    if over(request.headers.get("content-length", ""), limit):
        raise HTTPException(413, f"a form is at most {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise HTTPException(413, f"a form is at most {limit} bytes")
    try:
        text = body.decode()
    except UnicodeDecodeError:
        raise HTTPException(400, "the form is not UTF-8") from None
    return {key: values[-1] for key, values in parse_qs(text).items()}
