#!/usr/bin/env python3
"""Hostile clients of a TLS server on 127.0.0.1: slow and idle connections held open.

    slow_clients.py PORT TRICKLING IDLE INTERVAL SECONDS

Opens TRICKLING connections that send one byte every INTERVAL seconds, half of them the
bytes of a TLS ClientHello (a handshake that never ends), half the bytes of an HTTP
request after a finished handshake (a request that never ends), and IDLE connections
that finish the handshake and send nothing. Whenever the server closes one, it is
opened again at once, so the server faces as many as it lets in for the whole run.
Prints "ready" once every connection has been opened the first time, and on exit
(after SECONDS, or at SIGTERM) one line of counts: "opened KIND=N ... closed KIND=N ...",
where closed counts the connections the server ended. Certificates are not verified:
these clients want to hold the server, not to trust it.
"""
import asyncio
import signal
import ssl
import sys

PORT, TRICKLING, IDLE = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
INTERVAL, SECONDS = float(sys.argv[4]), float(sys.argv[5])

REQUEST = (b"POST /validate-metallb-io-v1beta1-bgpadvertisement HTTP/1.1\r\n"
           b"Host: bgpcomm-webhook\r\nContent-Type: application/json\r\n"
           b"Content-Length: 100000\r\n\r\n" + b"{" * 100000)

opened = {"handshake": 0, "request": 0, "idle": 0}
closed = {"handshake": 0, "request": 0, "idle": 0}


def context():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def client_hello():
    """The bytes of one ClientHello, as a TLS client would send them first."""
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = context().wrap_bio(incoming, outgoing, server_side=False)
    try:
        tls.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()


async def closed_within(reader, seconds):
    """True when the server closed the connection (EOF or error) within `seconds`."""
    try:
        data = await asyncio.wait_for(reader.read(65536), seconds)
        return data == b""
    except asyncio.TimeoutError:
        return False
    except (OSError, ssl.SSLError):
        return True


async def hold(kind, first_open):
    hello = client_hello()
    while True:
        try:
            if kind == "handshake":
                reader, writer = await asyncio.open_connection("127.0.0.1", PORT)
                payload = hello
            else:
                reader, writer = await asyncio.open_connection(
                    "127.0.0.1", PORT, ssl=context(), ssl_handshake_timeout=30)
                payload = REQUEST if kind == "request" else b""
        except (OSError, ssl.SSLError, asyncio.TimeoutError):
            # Refused or cut during the handshake: the server ended it.
            closed[kind] += 1
            await asyncio.sleep(0.05)
            continue
        opened[kind] += 1
        first_open.set()
        position = 0
        try:
            while True:
                if payload:
                    writer.write(payload[position % len(payload):position % len(payload) + 1])
                    position += 1
                    await writer.drain()
                if await closed_within(reader, INTERVAL):
                    break
        except (OSError, ssl.SSLError):
            pass
        closed[kind] += 1
        writer.close()


def counts():
    def line(name, table):
        return name + " " + " ".join(f"{k}={v}" for k, v in table.items())
    return line("opened", opened) + " " + line("closed", closed)


async def main():
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.call_later(SECONDS, stop.set)
    kinds = (["handshake"] * (TRICKLING // 2) + ["request"] * (TRICKLING - TRICKLING // 2) +
             ["idle"] * IDLE)
    firsts = [asyncio.Event() for _ in kinds]
    tasks = [asyncio.create_task(hold(kind, first)) for kind, first in zip(kinds, firsts)]

    async def all_opened():
        for first in firsts:
            await first.wait()
    try:
        await asyncio.wait_for(all_opened(), min(30, SECONDS))
        print("ready", flush=True)
    except asyncio.TimeoutError:
        print(f"not ready: {sum(f.is_set() for f in firsts)} of {len(firsts)} opened", flush=True)
    await stop.wait()
    for task in tasks:
        task.cancel()
    print(counts(), flush=True)


asyncio.run(main())
