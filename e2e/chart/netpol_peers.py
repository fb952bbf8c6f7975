#!/usr/bin/env python3
"""netpol_peers.py FILE SOURCE "CIDRS" "METRICS_PEERS": checks the webhook's NetworkPolicy
in the rendered chart FILE (chart_test.sh): its annotation bgpcomm.io/api-server-cidrs is
SOURCE (values, lookup or fallback), exactly CIDRS may open the webhook port and exactly
CIDRS are reached on the API server ports (443 and 6443 among them), exactly
METRICS_PEERS (ipBlock CIDRs, or ns:SELECTOR as compact JSON) may open the metrics port,
and the health port is open to all (the kubelet's probes)."""
import json
import sys

import yaml


def peers(rule):
    return [p["ipBlock"]["cidr"] if "ipBlock" in p
            else "ns:" + json.dumps(p["namespaceSelector"], separators=(",", ":"))
            for p in rule.get("from", rule.get("to", []))]


def main():
    path, source = sys.argv[1], sys.argv[2]
    cidrs, metrics = sys.argv[3].split(), sys.argv[4].split()
    docs = [d for d in yaml.safe_load_all(open(path)) if d and d.get("kind") == "NetworkPolicy"]
    assert len(docs) == 1, f"{len(docs)} NetworkPolicies"
    np = docs[0]
    got = np["metadata"]["annotations"]["bgpcomm.io/api-server-cidrs"]
    assert got == source, f"api-server-cidrs is {got}, want {source}"
    by_port = {r["ports"][0]["port"]: r for r in np["spec"]["ingress"]}
    assert peers(by_port["https"]) == cidrs, f"webhook port from {peers(by_port['https'])}"
    assert peers(by_port["metrics"]) == metrics, f"metrics port from {peers(by_port['metrics'])}"
    assert "from" not in by_port["health"], "health port restricted (kubelet probes)"
    api = [r for r in np["spec"]["egress"] if "to" in r]
    assert len(api) == 1 and peers(api[0]) == cidrs, f"egress to {[peers(r) for r in api]}"
    ports = {p["port"] for p in api[0]["ports"]}
    assert ports >= {443, 6443}, f"egress ports {sorted(ports)}"
    print(f"NetworkPolicy ({source}): webhook port from {' '.join(cidrs)}, metrics from {' '.join(metrics)}")


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        sys.exit(f"netpol_peers {sys.argv[1]}: {e}")
