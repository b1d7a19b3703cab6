#!/usr/bin/env python3
"""Writes the synthetic bandwidth traces shipped in resources/traces/.

Both are CSV with the columns time_s,kbps: the bandwidth holds from each time stamp to the
next, and the last time stamp ends the trace (`edgent run --trace` stops there unless
--count is given).

  step.csv         10 s each at 10 Mbps, 300 kbps, 5 Mbps and 200 kbps: steps by factors
                   of 33, 17 and 25, each crossing a plan boundary of the default model at
                   a 20 ms deadline with a device 4x slower than the edge (see README).
  random-walk.csv  60 s, one step per second: log2(kbps) takes a Gaussian step of
                   sigma 0.5 (seeded), reflected into [200 kbps, 20 Mbps].

Usage: scripts/make-traces.py [OUT_DIR]   (default resources/traces)
"""
import math
import os
import random
import sys


def write(path, points):
    with open(path, "w") as f:
        f.write("time_s,kbps\n")
        for t, kbps in points:
            f.write(f"{t:g},{kbps:.6g}\n")


def step():
    levels = [10000, 300, 5000, 200]
    points = [(10 * i, kbps) for i, kbps in enumerate(levels)]
    points.append((10 * len(levels), levels[-1]))  # the end of the trace
    return points


def random_walk(seed=2019, seconds=60, lo=200.0, hi=20000.0, sigma=0.5):
    rng = random.Random(seed)
    x = math.log2(2000.0)
    a, b = math.log2(lo), math.log2(hi)
    points = []
    for t in range(seconds + 1):
        points.append((t, round(2 ** x, 1)))
        x += rng.gauss(0.0, sigma)
        while x < a or x > b:  # reflect at the bounds
            x = 2 * a - x if x < a else 2 * b - x
    return points


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "resources", "traces")
    os.makedirs(out, exist_ok=True)
    write(os.path.join(out, "step.csv"), step())
    write(os.path.join(out, "random-walk.csv"), random_walk())


if __name__ == "__main__":
    main()
