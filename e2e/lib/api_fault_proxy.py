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
passes on (any method but GET) as `fwd EPOCH_SECONDS.MS METHOD PATH`: what the client
wrote, and when it reached the API server.

It reads only the first request of a connection, so it asks for one request per
connection: `Connection: close` is set on each request it forwards, the API server
closes after answering, and a keep-alive client (bgpcomm's kube client) opens a new
connection for its next request, which the proxy then judges and logs too.
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


async def pipe(reader, writer, path):
    try:
        while data := await reader.read(65536):
            while mode()[0] == "blackhole":
                await asyncio.sleep(0.2)  # held, then dropped: the stream is dead anyway
                data = b""
            if throttled(path):
                break
            if data:
                writer.write(data)
                await writer.drain()
    except (ConnectionError, ssl.SSLError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


async def watchdog(path, tasks):
    """Cuts an open connection once its request becomes throttled."""
    while not all(t.done() for t in tasks):
        if throttled(path):
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
    request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
    parts = request_line.split(" ")
    method, path = (parts[0], parts[1]) if len(parts) >= 2 else ("", "")
    if throttled(path):
        await answer_429(client_writer, method, path)
        return
    # The time a write is logged with is taken before the check that admits it: a write
    # passed on was admitted before the blackhole began, however late this process runs.
    admitted = time.time()
    if mode()[0] == "blackhole":  # it began while the request head was read
        client_writer.close()
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
    # One request per connection (see above): any Connection header replaced by close.
    lines = [line for line in head[:-4].split(b"\r\n")
             if not line.lower().startswith(b"connection:")]
    upstream_writer.write(b"\r\n".join(lines) + b"\r\nConnection: close\r\n\r\n")
    if method != "GET":
        print(f"fwd {admitted:.3f} {method} {path}", flush=True)
    tasks = [asyncio.ensure_future(pipe(client_reader, upstream_writer, path)),
             asyncio.ensure_future(pipe(upstream_reader, client_writer, path))]
    guard = asyncio.ensure_future(watchdog(path, tasks))
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
