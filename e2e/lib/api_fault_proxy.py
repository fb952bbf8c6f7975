#!/usr/bin/env python3
"""An HTTPS proxy on 127.0.0.1 in front of kube-apiserver that a test turns hostile.

    api_fault_proxy.py UPSTREAM_HOST UPSTREAM_PORT CERT KEY MODE_FILE

Prints the port it listens on (chosen by the system), then serves TLS with CERT/KEY and
passes each connection on to the upstream over TLS (the client's bearer token goes with
it; client certificates do not, so put only token clients behind it). Before each new
request, and for the connections already open, it obeys the first line of MODE_FILE as
it reads at that moment (a missing or empty file: pass):

    pass               forward everything
    blackhole          answer nothing: new connections are accepted and never read
                       (closed unread when it ends), open ones stop passing bytes
                       either way (a partitioned client)
    throttle REGEX     a request whose path matches REGEX is answered 429 Too Many
                       Requests (a Status, as API Priority and Fairness sends it) and
                       closed; open connections whose request matched are cut, so that
                       watches must come back and are refused too

Each request it answers 429 is logged on stdout as `429 METHOD PATH`, each write it
passes on (any method but GET, every request of a keep-alive connection) as
`fwd EPOCH_SECONDS.MS METHOD PATH`: what the client wrote, stamped just before the mode
was read for it, so that no write stamped after a switch to blackhole was passed on.
"""
import asyncio
import json
import re
import ssl
import sys
import time

UPSTREAM_HOST, UPSTREAM_PORT = sys.argv[1], int(sys.argv[2])
CERT, KEY, MODE_FILE = sys.argv[3], sys.argv[4], sys.argv[5]


def mode():
    try:
        with open(MODE_FILE) as f:
            line = f.readline().strip()
    except OSError:
        return ("pass", None)
    if line == "blackhole":
        return ("blackhole", None)
    if line.startswith("throttle "):
        return ("throttle", re.compile(line[len("throttle "):]))
    return ("pass", None)


def throttled(path):
    kind, pattern = mode()
    return kind == "throttle" and pattern.search(path) is not None


class Request:
    """The request a connection carries now (keep-alive: each in turn)."""

    def __init__(self, method, path):
        self.method, self.path = method, path


def head_of(head):
    """(method, path, body length) of a request head; length None for a chunked body."""
    lines = head.split(b"\r\n")
    parts = lines[0].decode("latin-1").split(" ")
    method, path = (parts[0], parts[1]) if len(parts) >= 2 else ("", "")
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value.strip() or b"0")
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            return method, path, None
    return method, path, length


def forwarded(method, path, at):
    """Logs a write (any method but GET) passed on at `at`, taken before the mode check,
    so that a write logged after the test switched to blackhole cannot have passed."""
    if method != "GET":
        print(f"fwd {at:.3f} {method} {path}", flush=True)


async def passing(reader, request):
    """The next bytes of a stream that may pass: b"" when the stream ends, when a blackhole
    held them (dropped: the stream is dead anyway) or when the request is throttled."""
    data = await reader.read(65536)
    while mode()[0] == "blackhole":
        await asyncio.sleep(0.2)
        data = b""
    if throttled(request.path):
        return b""
    return data


async def requests_upstream(reader, writer, request, body_left):
    """Client to API server: every request head on the connection is checked against the
    mode as it arrives and logged, not only the first (clients keep connections alive)."""
    pending = b""
    opaque = body_left is None  # a chunked body: the rest passes unparsed
    try:
        while data := await passing(reader, request):
            if opaque:
                writer.write(data)
                await writer.drain()
                continue
            out = b""
            while data:
                if body_left:
                    n = min(body_left, len(data))
                    out, data, body_left = out + data[:n], data[n:], body_left - n
                    continue
                pending, data = pending + data, b""
                end = pending.find(b"\r\n\r\n")
                if end < 0:
                    break
                head, data, pending = pending[:end + 4], pending[end + 4:], b""
                at = time.time()
                method, path, body_left = head_of(head)
                if mode()[0] == "blackhole" or throttled(path):
                    return  # cut: the client retries on a new connection, judged anew
                request.method, request.path = method, path
                forwarded(method, path, at)
                out += head
                if body_left is None:
                    opaque, body_left = True, 0
                    out, data = out + data, b""
            if out:
                writer.write(out)
                await writer.drain()
    except (ConnectionError, ssl.SSLError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


async def responses_downstream(reader, writer, request):
    try:
        while data := await passing(reader, request):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, ssl.SSLError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


async def watchdog(request, tasks):
    """Cuts an open connection once its request becomes throttled."""
    while not all(t.done() for t in tasks):
        if throttled(request.path):
            for t in tasks:
                t.cancel()
            return
        await asyncio.sleep(0.2)


async def answer_429(writer, method, path):
    body = json.dumps({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": "Too many requests, please try again later.", "reason": "TooManyRequests",
        "details": {"retryAfterSeconds": 1}, "code": 429}).encode()
    writer.write(b"HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\n"
                 b"Retry-After: 1\r\nConnection: close\r\n"
                 + b"Content-Length: %d\r\n\r\n" % len(body) + body)
    print(f"429 {method} {path}", flush=True)
    try:
        await writer.drain()
    except ConnectionError:
        pass
    writer.close()


async def handle(client_reader, client_writer):
    if mode()[0] == "blackhole":
        # Never read: what the client sent is lost with the connection, also after the
        # blackhole ends (a late write would be a delay, not a partition).
        while mode()[0] == "blackhole":
            await asyncio.sleep(0.2)
        client_writer.close()
        return
    try:
        head = await client_reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError,
            ssl.SSLError):
        client_writer.close()
        return
    method, path, body_left = head_of(head)
    if throttled(path):
        await answer_429(client_writer, method, path)
        return
    upstream_tls = ssl.create_default_context()
    upstream_tls.check_hostname = False
    upstream_tls.verify_mode = ssl.CERT_NONE  # loopback to the test's own apiserver
    try:
        upstream_reader, upstream_writer = await asyncio.open_connection(
            UPSTREAM_HOST, UPSTREAM_PORT, ssl=upstream_tls)
    except OSError:
        client_writer.close()
        return
    # Judged once the upstream connection is open, right before the head is passed on: a
    # blackhole that began during the connect stops this request too.
    at = time.time()
    if mode()[0] == "blackhole":
        upstream_writer.close()
        client_writer.close()
        return
    upstream_writer.write(head)
    forwarded(method, path, at)
    request = Request(method, path)
    tasks = [asyncio.ensure_future(requests_upstream(client_reader, upstream_writer, request,
                                                     body_left)),
             asyncio.ensure_future(responses_downstream(upstream_reader, client_writer, request))]
    guard = asyncio.ensure_future(watchdog(request, tasks))
    await asyncio.gather(*tasks, return_exceptions=True)
    guard.cancel()
    upstream_writer.close()
    client_writer.close()


async def main():
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(CERT, KEY)
    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=tls)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


asyncio.run(main())
