#!/usr/bin/env python3
"""Writes N LoadBalancer Services, each with its ClusterIP's IPAddress object and one
address in status.loadBalancer.ingress, straight into a kube-apiserver's etcd.

For bench/speaker_cluster_scale.sh at 100,000 Services: kube-apiserver v1.36 counts every
IPAddress object after each ClusterIP it allocates, so creating them through the API takes
over 90 minutes here. The objects are what the apiserver itself stores for such a Service
(JSON, which its storage decoder reads beside protobuf; defaults are applied on read), under
its default etcd prefix /registry; its watch cache receives them through etcd's watch.

  seed_services_etcd.py --etcd URL --namespace NS --services N --first-cluster-ip IPV4
                        --first-address IPV6 [--taken FILE]

Service i is svc-NNNNNN (i zero-padded to 6 digits), its address the i-th after
--first-address (as speaker_cluster_scale.sh's services.py names them), its ClusterIP the
i-th free one from --first-cluster-ip (FILE: `kubectl get ipaddresses -o name` of the
addresses already held). Uses etcd's JSON gateway (/v3/kv/txn), 128 puts per transaction
(etcd's default --max-txn-ops).
"""
import argparse
import base64
import datetime
import http.client
import ipaddress
import json
import sys
import urllib.parse
import uuid

BATCH = 128


def b64(text):
    return base64.b64encode(text.encode()).decode()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--etcd", required=True)
    parser.add_argument("--namespace", required=True)
    parser.add_argument("--services", type=int, required=True)
    parser.add_argument("--first-cluster-ip", required=True)
    parser.add_argument("--first-address", required=True)
    parser.add_argument("--taken")
    args = parser.parse_args()

    taken = set()
    if args.taken:
        with open(args.taken) as f:
            taken = {line.strip().rsplit("/", 1)[-1] for line in f if line.strip()}
    url = urllib.parse.urlparse(args.etcd)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    first_address = ipaddress.ip_address(args.first_address)
    cluster_ip = ipaddress.IPv4Address(args.first_cluster_ip)
    service_range = ipaddress.ip_network("198.18.0.0/15")

    puts = []

    def flush():
        if not puts:
            return
        body = json.dumps({"success": [{"requestPut": p} for p in puts]})
        conn.request("POST", "/v3/kv/txn", body, {"Content-Type": "application/json"})
        response = conn.getresponse()
        data = response.read()
        if response.status != 200 or b'"succeeded":true' not in data.replace(b" ", b""):
            sys.exit(f"etcd txn: HTTP {response.status} {data[:300]!r}")
        puts.clear()

    def put(key, obj):
        puts.append({"key": b64(key), "value": b64(json.dumps(obj, separators=(",", ":")))})
        if len(puts) == BATCH:
            flush()

    for i in range(args.services):
        while str(cluster_ip) in taken:
            cluster_ip += 1
        if cluster_ip not in service_range or cluster_ip == service_range.broadcast_address:
            sys.exit(f"Service {i}: ClusterIP {cluster_ip} is outside {service_range}")
        name = f"svc-{i:06d}"
        ip = str(cluster_ip)
        cluster_ip += 1
        put(f"/registry/ipaddresses/{ip}", {
            "apiVersion": "networking.k8s.io/v1", "kind": "IPAddress",
            "metadata": {"name": ip, "uid": str(uuid.uuid4()), "creationTimestamp": now,
                         "labels": {"ipaddress.kubernetes.io/ip-family": "IPv4",
                                    "ipaddress.kubernetes.io/managed-by": "ipallocator.k8s.io"}},
            "spec": {"parentRef": {"group": "", "resource": "services",
                                   "namespace": args.namespace, "name": name}}})
        put(f"/registry/services/specs/{args.namespace}/{name}", {
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "namespace": args.namespace, "uid": str(uuid.uuid4()),
                         "creationTimestamp": now},
            "spec": {"type": "LoadBalancer", "allocateLoadBalancerNodePorts": False,
                     "clusterIP": ip, "clusterIPs": [ip], "ipFamilies": ["IPv4"],
                     "ipFamilyPolicy": "SingleStack", "sessionAffinity": "None",
                     "externalTrafficPolicy": "Cluster", "internalTrafficPolicy": "Cluster",
                     "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 80}]},
            "status": {"loadBalancer": {"ingress": [
                {"ip": str(first_address + i), "ipMode": "VIP"}]}}})
    flush()


if __name__ == "__main__":
    main()
