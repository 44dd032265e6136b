"""What CPU a timing figure was measured on.

The same reader runs about 1.7× slower on an AVX2-only core than on one with AVX-512 VNNI
(onnxruntime's int8 and float kernels both use the wider units; models/README.md, "Speed by host"),
so `make eval` and `make bench` print and record the host next to every millisecond figure.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

from edge.config import usable_cores

DOT_PRODUCT_FLAGS = ("avx512_vnni", "avx_vnni", "amx_int8", "asimddp")
"""8-bit dot-product instructions (VNNI, AMX, ARM's `asimddp`): what makes the int8 OCR fast."""
ISA_FLAGS = ("avx2", "avx512f", *DOT_PRODUCT_FLAGS)
"""The instruction-set flags that change onnxruntime's kernels: AVX2 and AVX-512 for float, then
the dot products."""


def _cpuinfo_fields(text: str) -> dict[str, str]:
    """The first processor's `key: value` lines of /proc/cpuinfo."""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            if fields:
                break
            continue
        key, sep, value = line.partition(":")
        if sep:
            fields.setdefault(key.strip(), value.strip())
    return fields


def describe_host(cpuinfo: str | None = None) -> dict[str, object]:
    """CPU model, family/model numbers, the ISA flags of `ISA_FLAGS` present, and usable cores.

    `cpuinfo` is /proc/cpuinfo's text (read when None; empty off Linux, where only
    `platform.processor()` is known)."""
    if cpuinfo is None:
        path = Path("/proc/cpuinfo")
        cpuinfo = path.read_text(encoding="utf-8", errors="replace") if path.is_file() else ""
    fields = _cpuinfo_fields(cpuinfo)
    flags = set((fields.get("flags") or fields.get("Features") or "").split())
    return {
        "cpu": fields.get("model name") or platform.processor() or platform.machine(),
        "family_model": f"{fields.get('cpu family', '?')}/{fields.get('model', '?')}",
        "isa": [f for f in ISA_FLAGS if f in flags],
        "cores": usable_cores(),
        "machine": platform.machine(),
        "os_cpus": os.cpu_count(),
    }


def host_line(host: dict[str, object] | None = None) -> str:
    """One line for a person: `AMD EPYC (family/model 25/1), 2 cores, avx2; no 8-bit dot products`."""
    h = host or describe_host()
    isa = list(h["isa"])  # type: ignore[call-overload]
    dot = any(f in isa for f in DOT_PRODUCT_FLAGS)
    return (
        f"{h['cpu']} (family/model {h['family_model']}), {h['cores']} cores, "
        f"{', '.join(isa) or 'no AVX2'}; {'8-bit dot products' if dot else 'no 8-bit dot products'}"
    )
