#!/usr/bin/env python3
"""LoadBalancer Services in bulk, by parallel keep-alive HTTPS clients with the local
control plane's admin certificate (e2e/cluster/up.sh's pki/), far faster than kubectl.

    lb_services.py create STATE_DIR NAMESPACE FIRST COUNT CLIENTS
    lb_services.py delete STATE_DIR NAMESPACE FIRST COUNT CLIENTS

create: Services svc-NNNNNN (FIRST .. FIRST+COUNT-1) of type LoadBalancer in NAMESPACE
(IPv4 family, no node ports: the default node port range holds 2,768), each then given
the i-th address of 2001:db8:100::/104 in status.loadBalancer.ingress (the Services'
addresses are the caller's: run the webhook with --allocate-addresses=false). delete:
the same Services removed. A 409 on create and a 404 on delete count as done; 429 and
5xx are retried. Prints the wall time in seconds.
"""
import ipaddress
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kube_http import Api, run_workers  # noqa: E402

BASE_ADDRESS = ipaddress.IPv6Address("2001:db8:100::")


def address(i):
    """The i-th address of 2001:db8:100::/104, as BIRD prints it."""
    return str(BASE_ADDRESS + i)


def main():
    mode, state, namespace = sys.argv[1], sys.argv[2], sys.argv[3]
    first, count, clients = int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
    api = Api(state)
    connect = api.connect

    def call(c, method, path, body=None, ctype="application/json"):
        c, status, data = api.call(c, method, path, body, ctype)
        if status in (200, 201) or (status, method) in ((409, "POST"), (404, "DELETE")):
            return c
        raise SystemExit(f"{method} {path}: {status} {data[:200]!r}")

    base = f"/api/v1/namespaces/{namespace}/services"

    def one(c, i):
        name = f"svc-{i:06d}"
        if mode == "delete":
            return call(c, "DELETE", f"{base}/{name}")
        c = call(c, "POST", base, {
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"type": "LoadBalancer", "allocateLoadBalancerNodePorts": False,
                     "ipFamilies": ["IPv4"],
                     "ports": [{"name": "http", "port": 80, "protocol": "TCP"}]}})
        return call(c, "PATCH", f"{base}/{name}/status",
                    {"status": {"loadBalancer": {"ingress": [{"ip": address(i)}]}}},
                    "application/merge-patch+json")

    def work(w):
        c = connect()
        for i in range(first + w, first + count, clients):
            c = one(c, i)

    if mode not in ("create", "delete"):
        raise SystemExit(__doc__)
    start = time.time()
    run_workers(clients, work)
    print(f"{time.time() - start:.1f}")


if __name__ == "__main__":
    main()
