#!/usr/bin/env python3
"""Check deploy/: every cgsnap container of the *.yaml manifests is started
with arguments `cgsnap run --check` accepts ($(VAR) expanded as the kubelet
would from the container's env, downward API fields with sample values);
every *.json (the Grafana dashboard) parses; and, given a scrape of
/metrics, every cgsnap_* metric the manifests and dashboards query is on it.

usage: check-deploy.py CGSNAP_BINARY [DEPLOY_DIR [METRICS_FILE]]
"""
import glob
import json
import os
import re
import subprocess
import sys

import yaml

SAMPLE = {
    "status.podIP": "10.244.1.7",
    "status.hostIP": "10.0.0.11",
    "metadata.name": "web-7d4b9c8f5-x2x9q",
    "metadata.namespace": "shop",
    "metadata.uid": "6b1f2e3d-4c5b-4a69-8877-665544332211",
}


def pod_specs(doc):
    """The pod specs of a Kubernetes object: a Pod's, a controller's template's."""
    if not isinstance(doc, dict):
        return
    spec = doc.get("spec") or {}
    if doc.get("kind") == "Pod":
        yield spec
    elif isinstance(spec.get("template"), dict):
        yield spec["template"].get("spec") or {}


def container_env(c):
    env = {}
    for e in c.get("env") or []:
        if "value" in e:
            env[e["name"]] = str(e["value"])
        else:
            field = ((e.get("valueFrom") or {}).get("fieldRef") or {}).get("fieldPath")
            env[e["name"]] = SAMPLE.get(field, "sample")
    return env


def main():
    binary = sys.argv[1]
    deploy = sys.argv[2] if len(sys.argv) > 2 else "deploy"
    checked = failed = 0
    for path in sorted(glob.glob(os.path.join(deploy, "*.yaml"))):
        with open(path) as f:
            docs = list(yaml.safe_load_all(f))
        for doc in docs:
            for spec in pod_specs(doc):
                for c in spec.get("containers") or []:
                    if "cgsnap" not in c.get("image", ""):
                        continue
                    env = container_env(c)
                    args = [re.sub(r"\$\((\w+)\)", lambda m: env.get(m.group(1), m.group(0)), a)
                            for a in (c.get("command") or []) + (c.get("args") or [])]
                    if args and os.path.basename(args[0]) == "cgsnap":
                        args = args[1:]
                    if not args or args[0] != "run":
                        print(f"{path}: container {c['name']}: expected 'run' and its options, got {args}")
                        failed += 1
                        continue
                    r = subprocess.run([binary, "run", "--check"] + args[1:], capture_output=True,
                                       text=True, env=dict(os.environ, **env))
                    checked += 1
                    if r.returncode != 0:
                        failed += 1
                        print(f"{path}: container {c['name']}: cgsnap {' '.join(args)}: "
                              f"exit {r.returncode}: {r.stderr.strip()}")
    names = set()
    for path in sorted(glob.glob(os.path.join(deploy, "*.json"))):
        try:
            with open(path) as f:
                json.load(f)
        except ValueError as e:
            print(f"{path}: not JSON: {e}")
            failed += 1
        with open(path) as f:
            names |= set(re.findall(r"cgsnap_[a-z_]+", f.read()))
    for path in sorted(glob.glob(os.path.join(deploy, "*.yaml"))):
        with open(path) as f:
            names |= set(re.findall(r"cgsnap_[a-z_]+", f.read()))
    if len(sys.argv) > 3:
        with open(sys.argv[3]) as f:
            have = set(re.findall(r"^(cgsnap_[a-z_]+)", f.read(), re.M))
        for n in sorted(names - have):
            print(f"check-deploy: {n} is queried in {deploy} but not on the scrape {sys.argv[3]}")
            failed += 1
        print(f"check-deploy: {len(names)} metric names queried, all on the scrape"
              if names <= have else "")
    print(f"check-deploy: {checked} cgsnap containers checked, {failed} failures")
    return 1 if failed or not checked else 0


if __name__ == "__main__":
    sys.exit(main())
