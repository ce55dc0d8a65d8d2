#!/usr/bin/env python3
"""Convert a Kubernetes swagger.json into kubeconform's standalone-strict JSON schemas.

Usage: gen-kube-schemas.py SWAGGER_JSON OUT_DIR
Writes OUT_DIR/<kind>-<group>-<version>.json (the layout kubeconform's default filename template
expects) with every $ref inlined and additionalProperties false on objects, so unknown fields fail.
"""

import json
import sys
from pathlib import Path

SPECIAL = {
    "io.k8s.apimachinery.pkg.util.intstr.IntOrString": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
    "io.k8s.apimachinery.pkg.api.resource.Quantity": {"oneOf": [{"type": "string"}, {"type": "number"}]},
}


def resolve(node, definitions, stack=()):
    """Inline $refs depth-first; a recursive reference (JSONSchemaProps) becomes an open schema."""
    if isinstance(node, list):
        return [resolve(item, definitions, stack) for item in node]
    if not isinstance(node, dict):
        return node
    if isinstance(node.get("$ref"), str):
        name = node["$ref"].rsplit("/", 1)[-1]
        if name in SPECIAL:
            return dict(SPECIAL[name])
        if name in stack:
            return {}
        return resolve(definitions[name], definitions, (*stack, name))
    out = {k: resolve(v, definitions, stack) for k, v in node.items() if not k.startswith("x-kubernetes")}
    if out.get("type") == "object" and "properties" in out:
        out["additionalProperties"] = False
    return out


def main(swagger_path: str, out_dir: str) -> None:
    definitions = json.loads(Path(swagger_path).read_text())["definitions"]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name, schema in definitions.items():
        for gvk in schema.get("x-kubernetes-group-version-kind", []):
            group = gvk["group"].split(".")[0].lower()
            suffix = f"-{group}-{gvk['version']}" if group else f"-{gvk['version']}"
            resolved = resolve(schema, definitions, (name,))
            (out / f"{gvk['kind'].lower()}{suffix}.json").write_text(json.dumps(resolved))


if __name__ == "__main__":
    main(*sys.argv[1:3])
