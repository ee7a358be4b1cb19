"""Every identifier the header defines follows the naming grammar written in README.md."""
from __future__ import annotations

import json
import re

from conftest import ROOT


def _grammar(data):
    p, s = data["prefix"], data["struct"]
    paths = {m["path"]: "_".join(part.lstrip("_").upper() for part in m["path"].split("."))
             for m in data["members"]}
    allowed = {f"{p}_SIZE", f"{p}_ALIGN", f"{p}_ARRAY_ALIGN", f"{p}_H_INCLUDED"}
    functions = set()
    for m in data["members"]:
        upper = paths[m["path"]]
        allowed |= {f"{p}_{upper}_OFFSET", f"{p}_{upper}_SIZE"}
        lower = m["path"].replace(".", "_")
        functions |= {f"{s}_{lower}_{op}" for op in m["ops"]}
        for b in m["bits"]:
            allowed |= {f"{p}_{upper}_{b['name'].upper()}_{x}" for x in ("SHIFT", "WIDTH", "MASK")}
            functions |= {f"{s}_{lower}_{b['name']}_{x}" for x in ("get", "set")}
    allowed |= {f"{p}_{c['name']}" for c in data["constants"]}
    for fs in data["flag_sets"]:
        allowed.add(f"{p}_{fs['name'].upper()}_ALL")
        for f in fs["flags"]:
            allowed.add(f"{p}_{fs['name'].upper()}_{f['name']}")
            if f["bit"] is not None:
                allowed.add(f"{p}_{fs['name'].upper()}_{f['name']}_BIT")
    return allowed, functions


def test_generated_names_follow_the_readme_grammar(generated):
    data = json.loads((generated / "meta_slot.layout.json").read_text())
    allowed, functions = _grammar(data)
    text = (generated / "meta_slot.h").read_text()
    defined = set(re.findall(r"^#define (\w+)", text, re.M))
    undefined = set(re.findall(r"^#undef (\w+)", text, re.M))
    assert defined - undefined == allowed
    assert set(re.findall(r"^static inline [\w ]+? (\w+)\(", text, re.M)) == functions
    readme = (ROOT / "README.md").read_text()
    for example in ("META_SLOT_FREE_LINK_NEXT_OFFSET", "META_SLOT_REFCOUNT_UNUSED",
                    "META_SLOT_FRAME_FLAGS_FREE", "META_SLOT_META_AUX_OWNER_CPU_MASK",
                    "meta_slot_refcount_cas", "meta_slot_meta_aux_owner_cpu_set"):
        assert example in readme and (example in defined or example in functions)
