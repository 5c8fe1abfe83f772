#!/usr/bin/env python3
"""Checks the crate dependency rule of ../shared/ARCHITECTURE.md with `cargo metadata`.

The layer of each crate is read from the workspace layout in ARCHITECTURE.md
(lines like `  boz-weather/     L1  WEATHER ...`); the rules are its table:

  L0 boz-common                 external crates only
  L0 boz-crypto, boz-telemetry  boz-common
  AD boz-store                  L0
  L1 feature crates             L0 only (never another L1 crate, never boz-store)
  L2 boz-api, boz-engine        L0 + L1 (not each other, not the store)
  L3 boz                        everything

Every workspace crate must appear in ARCHITECTURE.md (or in EXTRA below, with a reason), so a
new crate cannot slip past the rule. Normal, build and dev dependencies are all checked.
"""
import json
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
ARCH = ROOT.parent / "shared" / "ARCHITECTURE.md"

# Crates the architecture page does not list yet: name -> layer. Keep empty unless needed.
EXTRA = {
    # readers for the recorded history files (issue 5 asks for importers in the project); a
    # feature crate like the others, so that both the model's evaluation and the backtest can
    # use it through the binary or boz-engine
    "boz-history": "L1",
}


def layers_from_architecture():
    text = ARCH.read_text(encoding="utf-8")
    found = {}
    for m in re.finditer(r"^\s+(boz[-a-z0-9]*)/\s+(L0|L1|L2|L3|AD)\b", text, re.M):
        found[m.group(1)] = m.group(2)
    if not found:
        sys.exit(f"no crate layout found in {ARCH}")
    found.update(EXTRA)
    return found


def allowed(crate, layer, dep, dep_layer):
    if layer == "L3":
        return True
    if layer == "L0":
        return crate != "boz-common" and dep == "boz-common"
    if layer in ("AD", "L1"):
        return dep_layer == "L0"
    if layer == "L2":
        return dep_layer in ("L0", "L1")
    return False


def main():
    layers = layers_from_architecture()
    meta = json.loads(
        subprocess.run(
            ["cargo", "metadata", "--format-version", "1", "--no-deps", "--locked"],
            cwd=ROOT, check=True, capture_output=True, text=True,
        ).stdout
    )
    members = {p["name"]: p for p in meta["packages"]}
    problems = []
    for name, pkg in sorted(members.items()):
        layer = layers.get(name)
        if layer is None:
            problems.append(f"{name}: not in the crate layout of ARCHITECTURE.md (add it to EXTRA in {__file__} with its layer)")
            continue
        for dep in pkg["dependencies"]:
            d = dep["name"]
            if d not in members:
                continue
            kind = dep["kind"] or "normal"
            if not allowed(name, layer, d, layers.get(d)):
                problems.append(f"{name} ({layer}) must not depend on {d} ({layers.get(d)}) [{kind}]")
    if problems:
        print("Crate dependency rule violated:")
        for p in problems:
            print("  - " + p)
        sys.exit(1)
    print(f"Crate dependency rule holds for {len(members)} crates: " +
          ", ".join(f"{n} {layers[n]}" for n in sorted(members)))


if __name__ == "__main__":
    main()
