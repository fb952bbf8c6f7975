#!/usr/bin/env python3
"""The objects and the baseline of bench/alias_rewrite.sh, by plain keep-alive HTTPS
clients with the local control plane's admin certificate (e2e/lib/kube_http.py).

    alias_rewrite.py create STATE_DIR NAMESPACE COUNT CLIENTS ALIAS
    alias_rewrite.py patch STATE_DIR NAMESPACE
    alias_rewrite.py count STATE_DIR NAMESPACE VALUE

create: BGPAdvertisements bench-NNNNNN (0 .. COUNT-1) of pool bench-pool whose only
community is ALIAS, by CLIENTS parallel clients (a 409 counts as done).
patch: the baseline, what a plain client does for the same rewrite: every
BGPAdvertisement of NAMESPACE (one LIST) gets one JSON Patch, a test of its
resourceVersion and an annotation set, one after the other on one kept-alive connection,
as the resolver writes (one PATCH at a time, guarded by the resourceVersion). Prints the
wall time of the PATCHes in seconds.
count: how many BGPAdvertisements of NAMESPACE have VALUE among the communities of their
bgpcomm.io/resolved-communities annotation, then how many there are.
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e", "lib"))
from kube_http import Api, run_workers  # noqa: E402

RESOLVED = "bgpcomm.io/resolved-communities"


def path(namespace, name=""):
    base = f"/apis/metallb.io/v1beta1/namespaces/{namespace}/bgpadvertisements"
    return f"{base}/{name}" if name else base


def expect(status, data, method, where, ok):
    if status not in ok:
        raise SystemExit(f"{method} {where}: {status} {data[:300]!r}")


def create(api, namespace, count, clients, alias):
    def work(w):
        c = api.connect()
        for i in range(w, count, clients):
            c, status, data = api.call(c, "POST", path(namespace), {
                "apiVersion": "metallb.io/v1beta1", "kind": "BGPAdvertisement",
                "metadata": {"name": f"bench-{i:06d}", "namespace": namespace},
                "spec": {"ipAddressPools": ["bench-pool"], "communities": [alias]}})
            expect(status, data, "POST", path(namespace), (201, 409))

    run_workers(clients, work)


def listed(api, namespace):
    c, status, data = api.call(api.connect(), "GET", path(namespace))
    expect(status, data, "GET", path(namespace), (200,))
    c.close()
    return json.loads(data)["items"]


def patch(api, namespace):
    items = listed(api, namespace)
    c = api.connect()
    start = time.time()
    for item in items:
        meta = item["metadata"]
        where = path(namespace, meta["name"])
        c, status, data = api.call(c, "PATCH", where, [
            {"op": "test", "path": "/metadata/resourceVersion", "value": meta["resourceVersion"]},
            {"op": "add", "path": "/metadata/annotations/bench.bgpcomm.io~1touched", "value": "1"},
        ], "application/json-patch+json")
        expect(status, data, "PATCH", where, (200,))
    print(f"{time.time() - start:.2f}")


def count(api, namespace, value):
    items = listed(api, namespace)
    have = 0
    for item in items:
        stored = item["metadata"].get("annotations", {}).get(RESOLVED)
        if stored and value in json.loads(stored).get("communities", []):
            have += 1
    print(have, len(items))


def main():
    if len(sys.argv) < 4 or sys.argv[1] not in ("create", "patch", "count"):
        raise SystemExit(__doc__)
    mode, api, namespace = sys.argv[1], Api(sys.argv[2]), sys.argv[3]
    if mode == "create":
        create(api, namespace, int(sys.argv[4]), int(sys.argv[5]), sys.argv[6])
    elif mode == "patch":
        patch(api, namespace)
    else:
        count(api, namespace, sys.argv[4])


if __name__ == "__main__":
    main()
