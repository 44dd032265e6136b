"""dealergate.host: the CPU a timing figure came from, told from /proc/cpuinfo's text."""

from __future__ import annotations

from dealergate.host import describe_host, host_line

ZEN3 = """processor\t: 0
vendor_id\t: AuthenticAMD
cpu family\t: 25
model\t\t: 1
model name\t: AMD EPYC
flags\t\t: fpu sse sse2 ssse3 fma sse4_1 sse4_2 avx avx2 sha_ni

processor\t: 1
model name\t: something else
flags\t\t: avx512f avx512_vnni
"""

CASCADE_LAKE = """processor\t: 0
cpu family\t: 6
model\t\t: 85
model name\t: Intel(R) Xeon(R) Platinum 8259CL CPU @ 2.50GHz
flags\t\t: fpu avx avx2 avx512f avx512bw avx512_vnni
"""

ARM = """processor\t: 0
BogoMIPS\t: 50.00
Features\t: fp asimd evtstrm aes crc32 asimddp
CPU implementer\t: 0x41
"""


def test_an_avx2_only_core_has_no_8bit_dot_products() -> None:
    host = describe_host(ZEN3)
    assert host["cpu"] == "AMD EPYC"
    assert host["family_model"] == "25/1"
    assert host["isa"] == ["avx2"]  # the second processor's flags are not read
    assert host_line(host).endswith("avx2; no 8-bit dot products")


def test_vnni_and_arm_dot_products_are_named() -> None:
    intel = describe_host(CASCADE_LAKE)
    assert intel["isa"] == ["avx2", "avx512f", "avx512_vnni"]
    assert "family/model 6/85" in host_line(intel)
    assert host_line(intel).endswith("; 8-bit dot products")
    arm = describe_host(ARM)
    assert arm["isa"] == ["asimddp"]
    assert host_line(arm).endswith("; 8-bit dot products")


def test_no_cpuinfo_still_describes_the_host() -> None:
    host = describe_host("")
    assert host["cpu"]  # platform.processor() or the machine name
    assert host["family_model"] == "?/?"
    assert isinstance(host["cores"], int) and host["cores"] >= 1
    assert "no AVX2" in host_line(host)
