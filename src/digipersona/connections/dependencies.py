from __future__ import annotations

from typing import Annotated

import httpx
from fastapi import Depends, Request

from digipersona.kit.crypto import TokenCipher


def get_cipher(request: Request) -> TokenCipher:
    cipher: TokenCipher = request.app.state.cipher
    return cipher


def get_http(request: Request) -> httpx.Client:
    client: httpx.Client = request.app.state.http
    return client


CipherDep = Annotated[TokenCipher, Depends(get_cipher)]
HttpDep = Annotated[httpx.Client, Depends(get_http)]
