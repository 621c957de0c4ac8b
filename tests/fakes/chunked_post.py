"""A hostile client: a POST whose chunked body goes on and on, over a raw connection, so a
test sees how much of it the server took before answering."""

from __future__ import annotations

import asyncio

from aiohttp.test_utils import BaseTestServer

CHUNK = 64 * 1024


async def stream_post(
    server: BaseTestServer, path: str, headers: dict[str, str], total: int
) -> tuple[int, int]:
    """POST `total` bytes of `[` chunked, stopping as soon as an answer comes; (the answer's
    status, the body bytes sent by then)."""
    status, sent, _body = await stream_post_answer(server, path, headers, total)
    return status, sent


async def stream_post_answer(
    server: BaseTestServer, path: str, headers: dict[str, str], total: int
) -> tuple[int, int, bytes]:
    """`stream_post`, with the answer's body (read by its Content-Length)."""
    reader, writer = await asyncio.open_connection(server.host, server.port)
    lines = [f"POST {path} HTTP/1.1", f"Host: {server.host}", "Transfer-Encoding: chunked"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
    answer = asyncio.ensure_future(reader.readline())
    frame = f"{CHUNK:x}\r\n".encode() + b"[" * CHUNK + b"\r\n"
    sent = 0
    try:
        while sent < total and not answer.done():
            writer.write(frame)
            await writer.drain()  # waits while the server reads no more
            sent += CHUNK
            await asyncio.sleep(0)
        if not answer.done():
            writer.write(b"0\r\n\r\n")
            await writer.drain()
    except ConnectionError:
        pass
    status_line = await answer
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    body = await reader.readexactly(length)
    writer.close()
    return int(status_line.split()[1]), sent, body
