#!/usr/bin/env python3
"""A TCP proxy on 127.0.0.1 that holds every chunk the upstream sends for a while.

    delay_proxy.py UPSTREAM_HOST UPSTREAM_PORT DELAY_FILE

Prints the port it listens on (chosen by the system), then forwards connections to the
upstream. Before passing on each chunk from the upstream it waits the number of seconds
written in DELAY_FILE at that moment (0 or a missing file: no wait), so a test makes the
API server slow or fast again by rewriting the file. TLS passes through untouched.
"""
import asyncio
import sys

UPSTREAM_HOST, UPSTREAM_PORT, DELAY_FILE = sys.argv[1], int(sys.argv[2]), sys.argv[3]


def delay():
    try:
        with open(DELAY_FILE) as f:
            return float(f.read().strip() or 0)
    except (OSError, ValueError):
        return 0.0


async def pipe(reader, writer, slow):
    try:
        while data := await reader.read(65536):
            if slow and (seconds := delay()) > 0:
                await asyncio.sleep(seconds)
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


async def handle(client_reader, client_writer):
    try:
        upstream_reader, upstream_writer = await asyncio.open_connection(UPSTREAM_HOST,
                                                                         UPSTREAM_PORT)
    except OSError:
        client_writer.close()
        return
    await asyncio.gather(pipe(client_reader, upstream_writer, False),
                         pipe(upstream_reader, client_writer, True))


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


asyncio.run(main())
