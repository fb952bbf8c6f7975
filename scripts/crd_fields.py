#!/usr/bin/env python3
"""Fails when a chart CRD lacks a field of MetalLB's CRD of the same kind and version.

Usage: crd_fields.py METALLB_CRD_DIR CHART_CRD_DIR

Walks every property path (spec.peers, spec.nodeSelectors[].matchLabels, ...) of each
served version's openAPIV3Schema in MetalLB's CRDs (config/crd/bases of the Go module
go.universe.tf/metallb) and reports the paths the chart's CRD of that kind does not
have. Kinds bgpcomm does not serve (L2Advertisement, ServiceL2Status) are skipped.
"""
import pathlib
import sys

import yaml

NOT_SERVED = {"L2Advertisement", "ServiceL2Status"}


def paths(schema, prefix=""):
    """Every property path below `schema`; list items are written `[]`."""
    out = set()
    if not isinstance(schema, dict):
        return out
    for name, sub in (schema.get("properties") or {}).items():
        path = f"{prefix}.{name}" if prefix else name
        out.add(path)
        out |= paths(sub, path)
    if "items" in schema:
        out |= paths(schema["items"], prefix + "[]")
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        out |= paths(extra, prefix + "{}")
    return out


def load(directory):
    """(kind, version) -> property paths, for every CRD file of `directory`."""
    crds = {}
    for file in sorted(pathlib.Path(directory).glob("*.yaml")):
        for doc in yaml.safe_load_all(file.read_text()):
            if not doc or doc.get("kind") != "CustomResourceDefinition":
                continue
            kind = doc["spec"]["names"]["kind"]
            for version in doc["spec"]["versions"]:
                if not version.get("served", True):
                    continue
                schema = version.get("schema", {}).get("openAPIV3Schema", {})
                # metadata's fields are Kubernetes', not the CRD's.
                found = {p for p in paths(schema) if not p.startswith("metadata.")}
                crds[(kind, version["name"])] = (file.name, found)
    return crds


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    theirs, ours = load(sys.argv[1]), load(sys.argv[2])
    if not theirs:
        print(f"crd_fields: no CRDs in {sys.argv[1]}", file=sys.stderr)
        return 2
    missing = 0
    checked = 0
    for (kind, version), (file, fields) in sorted(theirs.items()):
        if kind in NOT_SERVED:
            continue
        checked += 1
        if (kind, version) not in ours:
            print(f"{kind} {version}: no CRD in the chart (MetalLB's {file})")
            missing += 1
            continue
        ours_file, our_fields = ours[(kind, version)]
        for path in sorted(fields - our_fields):
            print(f"{ours_file}: {kind} {version}: lacks {path}")
            missing += 1
    print(f"crd_fields: {checked} kind/version pairs of MetalLB compared, {missing} missing")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
