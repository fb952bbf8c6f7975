"""Plain keep-alive HTTPS calls to the local control plane's API server with its admin
certificate (e2e/cluster/up.sh's pki/ and env), for the bulk helpers of e2e/lib and
bench/: far faster than a kubectl process per object.

    api = Api(state_dir)
    c = api.connect()
    c, status, body = api.call(c, "GET", "/api/v1/namespaces")

call() sends one request on connection `c` and reconnects when the connection fails;
429 and 5xx answers are retried with a growing pause (a busy API server), any other
status is returned with the body for the caller to judge. It returns the connection to
use next.
"""
import http.client
import json
import ssl
import threading
import time

RETRIED = (429, 500, 503, 504)


class Api:
    def __init__(self, state):
        self.port = None
        with open(f"{state}/env") as env:
            for line in env:
                if line.startswith("API_PORT="):
                    self.port = int(line.strip().split("=", 1)[1])
        if self.port is None:
            raise SystemExit(f"no API_PORT in {state}/env")
        self.ctx = ssl.create_default_context(cafile=f"{state}/pki/ca.crt")
        self.ctx.load_cert_chain(f"{state}/pki/admin.crt", f"{state}/pki/admin.key")

    def connect(self):
        return http.client.HTTPSConnection("127.0.0.1", self.port, context=self.ctx, timeout=60)

    def call(self, c, method, path, body=None, ctype="application/json"):
        for attempt in range(20):
            try:
                c.request(method, path, None if body is None else json.dumps(body),
                          {"Content-Type": ctype})
                r = c.getresponse()
                data = r.read()
                if r.status not in RETRIED:
                    return c, r.status, data
            except (OSError, http.client.HTTPException):
                c.close()
                c = self.connect()
            time.sleep(0.2 * (attempt + 1))
        raise SystemExit(f"{method} {path}: gave up after 20 tries")


def run_workers(clients, work):
    """Runs work(w) for w in 0..clients-1 on threads of their own; the first failure of any
    of them ends the program with its message once all have returned."""
    errors = []

    def worker(w):
        try:
            work(w)
        except BaseException as e:  # noqa: BLE001 (reported below)
            errors.append(str(e))

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise SystemExit(errors[0])
