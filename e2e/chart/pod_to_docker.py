#!/usr/bin/env python3
"""pod_to_docker.py MANIFEST DEPLOYMENT CONTAINER: prints, one per line, the `docker run`
arguments that run CONTAINER of Deployment DEPLOYMENT (from a `helm get manifest` file) the
way a kubelet would: its securityContext (user, group, read-only root filesystem,
capabilities, no privilege escalation), a tmpfs for each emptyDir it mounts, its env with
fieldRef metadata.namespace resolved, then the image's entrypoint replaced by its command
and followed by its args with $(VAR) expanded. Fails on anything it cannot translate, so
that a chart change the test does not understand is noticed."""
import re
import sys

import yaml


def main():
    manifest, deployment, container = sys.argv[1:4]
    docs = [d for d in yaml.safe_load_all(open(manifest)) if d]
    deps = [d for d in docs if d.get("kind") == "Deployment" and d["metadata"]["name"] == deployment]
    if len(deps) != 1:
        sys.exit(f"pod_to_docker: Deployment {deployment} not found in {manifest}")
    dep = deps[0]
    pod = dep["spec"]["template"]["spec"]
    namespace = dep["metadata"].get("namespace", "default")
    found = [c for c in pod["containers"] if c["name"] == container]
    if len(found) != 1:
        sys.exit(f"pod_to_docker: container {container} not found")
    c = found[0]
    out = []
    pod_sc = pod.get("securityContext", {})
    sc = {**pod_sc, **c.get("securityContext", {})}
    user = sc.get("runAsUser")
    group = sc.get("runAsGroup", user)
    if user is None:
        sys.exit("pod_to_docker: no runAsUser")
    out.append(f"--user={user}:{group}")
    if sc.get("readOnlyRootFilesystem"):
        out.append("--read-only")
    if sc.get("allowPrivilegeEscalation") is False:
        out.append("--security-opt=no-new-privileges")
    caps = sc.get("capabilities", {})
    for cap in caps.get("drop", []):
        out.append(f"--cap-drop={cap}")
    for cap in caps.get("add", []):
        out.append(f"--cap-add={cap}")
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    for m in c.get("volumeMounts", []):
        v = volumes[m["name"]]
        if "emptyDir" not in v:
            sys.exit(f"pod_to_docker: volume {m['name']} is not an emptyDir")
        out.append(f"--tmpfs={m['mountPath']}:uid={user},gid={group},mode=0700")
    env = {}
    for e in c.get("env", []):
        if "value" in e:
            env[e["name"]] = e["value"]
        elif e.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") == "metadata.namespace":
            env[e["name"]] = namespace
        else:
            sys.exit(f"pod_to_docker: env {e['name']} cannot be translated")
    for k, v in env.items():
        out.append(f"--env={k}={v}")
    command = c.get("command")
    if not command or len(command) != 1:
        sys.exit("pod_to_docker: expected a one-element command")
    out.append(f"--entrypoint={command[0]}")
    out.append("IMAGE")
    expand = lambda s: re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", lambda m: env.get(m.group(1), m.group(0)), s)
    out.extend(expand(a) for a in c.get("args", []))
    print("\n".join(out))


if __name__ == "__main__":
    main()
