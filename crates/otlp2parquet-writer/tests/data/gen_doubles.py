"""Regenerates doubles.tsv: `<f64 bits as 16 hex digits>\t<reference fmt_double output>` per line.

    /work/main/.venv/bin/python tests/data/gen_doubles.py > tests/data/doubles.tsv

The cases cover integers, powers of ten around the plain/exponent edges (1e-7, 1e-6, 1e20, 1e21)
and their neighbours, subnormals, the extremes and random bit patterns; the seed is fixed so the
file only changes when this script does. NaN and ±Infinity are left out: the reference leaves
them unspecified (value.rs tests them by hand).
"""
import math
import random
import struct
import sys

sys.path.insert(0, "/work/shared/reference")
import reference  # noqa: E402


def bits(x):
    return struct.unpack("<Q", struct.pack("<d", x))[0]


def from_bits(b):
    return struct.unpack("<d", struct.pack("<Q", b))[0]


def cases():
    rnd = random.Random(20240229)
    out = [0.0, -0.0, 1.0, -1.0, 0.1, 0.2, 0.30000000000000004, 1 / 3, 2 / 3, math.pi, math.e,
           12.0, 12.5, 1e-6, 1e-7, 1.5e-7, 1e20, 1e21, 1.2345678901234568e20, 123456789012345680000.0,
           9.999999999999999e20, 9.999999999999999e-7, 0.000001, 0.0000015, 5e-324, -5e-324,
           2.2250738585072009e-308, 2.2250738585072014e-308, sys.float_info.max, -sys.float_info.max,
           sys.float_info.min, sys.float_info.epsilon, 2.0**53, 2.0**53 + 2, 2.0**63, 2.0**64, 9007199254740993.0]
    for i in range(0, 130):
        out.append(float(i))
        out.append(float(-i * 7919))
    for e in range(0, 64):
        out.append(2.0 ** e)
        out.append(2.0 ** -e)
    for e in range(-30, 31):
        x = 10.0 ** e
        out += [x, -x, math.nextafter(x, 0), math.nextafter(x, math.inf), 1.5 * x, 9.5 * x, 123.456 * x]
    for e in (-325, -324, -323, -310, -308, -307, 306, 307, 308):
        x = float(f"1e{e}")
        out += [x, math.nextafter(x, 0), math.nextafter(x, math.inf)]
    for _ in range(100):                      # subnormals
        out.append(from_bits(rnd.getrandbits(52)))
    for _ in range(300):                      # short decimals, the common attribute case
        out.append(round(rnd.uniform(-1e6, 1e6), rnd.randint(0, 6)))
    for _ in range(200):
        out.append(rnd.uniform(0, 1) * 10.0 ** rnd.randint(-9, 24))
    while len(out) < 2000:                    # random bit patterns
        x = from_bits(rnd.getrandbits(64))
        if math.isfinite(x):
            out.append(x)
    return out


def main():
    seen = set()
    for x in cases():
        b = bits(x)
        if b in seen or not math.isfinite(x):
            continue
        seen.add(b)
        sys.stdout.write(f"{b:016x}\t{reference.fmt_double(x)}\n")


if __name__ == "__main__":
    main()
