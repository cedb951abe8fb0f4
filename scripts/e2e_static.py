#!/usr/bin/env python3
"""Static checks of dashboards/ and examples/ for scripts/e2e.sh (docker-compose is not run).

- dashboards/*.json: valid JSON, importable as is (no __inputs), datasource through ${datasource},
  unique panel ids, panels within the 24-column grid;
- dashboards/provisioning/**.yml and examples/docker-compose.yml: valid YAML (when PyYAML is
  available), and every relative path the compose file mounts exists.
"""
import glob
import json
import os
import sys

try:
    import yaml
except ImportError:  # Debian's python3 without python3-yaml: JSON checks only
    yaml = None


def walk(panels):
    for p in panels:
        yield p
        yield from walk(p.get("panels", []))


def main():
    bad = []
    for path in sorted(glob.glob("dashboards/*.json")):
        with open(path, encoding="utf-8") as f:
            d = json.load(f)
        if "__inputs" in d:
            bad.append(f"{path}: has __inputs (not importable as is)")
        if not any(v.get("type") == "datasource" and v.get("name") == "datasource"
                   for v in d.get("templating", {}).get("list", [])):
            bad.append(f"{path}: no datasource template variable")
        ids = set()
        for p in walk(d.get("panels", [])):
            if p["id"] in ids:
                bad.append(f"{path}: duplicate panel id {p['id']}")
            ids.add(p["id"])
            g = p.get("gridPos", {})
            if g.get("x", 0) + g.get("w", 0) > 24:
                bad.append(f"{path}: panel {p.get('title')!r} is wider than the grid")
            for t in p.get("targets", []):
                if t.get("datasource", {}).get("uid") not in (None, "${datasource}"):
                    bad.append(f"{path}: panel {p.get('title')!r} has a fixed data source")
    if yaml:
        for path in glob.glob("dashboards/provisioning/*/*.yml"):
            with open(path, encoding="utf-8") as f:
                yaml.safe_load(f)
        with open("examples/docker-compose.yml", encoding="utf-8") as f:
            compose = yaml.safe_load(f)
        for name, svc in compose["services"].items():
            for v in svc.get("volumes", []):
                src = v.split(":")[0]
                if src.startswith(".") and not os.path.exists(os.path.join("examples", src)):
                    bad.append(f"examples/docker-compose.yml: service {name} mounts {src}, which does not exist")
            build = svc.get("build", {})
            if build and not os.path.exists(os.path.join("examples", build["context"], build.get("dockerfile", "Dockerfile"))):
                bad.append(f"examples/docker-compose.yml: service {name}: no Dockerfile")
    for b in bad:
        print("e2e:", b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
