#!/usr/bin/env python3
"""The dreamdb.frame.v1 frame descriptor (spec 0007 §5.4.1), written from the spec text alone.

Reads 64x36 yuv444p frames (6912 bytes each: Y, then Cb, then Cr) from stdin and writes, for each, its
256 values as little-endian float32 to stdout. The packager's tests compare its bytes with their own.
"""
import math
import struct
import sys

W, H = 64, 36
PLANE = W * H
SHARES = [0.25, 0.25, 0.2, 0.15, 0.15]


def sector(u, v):
    q = 0
    while not (u > 0 and v >= 0):
        u, v = v, -u
        q += 1
    return 2 * q if v < u else 2 * q + 1


def orientation_bin(gx, gy):
    a, b = abs(gx), abs(gy)
    if 5 * b <= a:
        s = 0
    elif 3 * b <= 2 * a:
        s = 1
    elif 2 * b < 3 * a:
        s = 2
    elif b < 5 * a:
        s = 3
    else:
        s = 4
    same = (gx < 0) == (gy < 0) or gx == 0 or gy == 0
    return s if same else (8 - s) % 8


def hellinger_centred(h):
    total = sum(h)  # integers: exact
    if total == 0:
        return [0.0] * len(h)
    p = [math.sqrt(x / total) for x in h]
    m = 0.0
    for x in p:
        m += x
    m /= len(p)
    return [x - m for x in p]


def unit(block):
    squares = 0.0
    for x in block:
        squares += x * x
    if squares == 0:
        return [float(x) for x in block]
    norm = math.sqrt(squares)
    return [x / norm for x in block]


def describe(frame):
    Y = lambda x, y: frame[y * W + x]
    layout, luma, colour, orientation, edges = [0] * 48, [0] * 16, [0] * 32, [0] * 128, [0] * 32
    for y in range(H):
        for x in range(W):
            i = y * W + x
            l, u, v = frame[i], frame[PLANE + i] - 128, frame[2 * PLANE + i] - 128
            c4 = (y // 9) * 4 + x // 16
            c8 = (y // 9) * 8 + x // 8
            layout[3 * c4] += l - 128
            layout[3 * c4 + 1] += u
            layout[3 * c4 + 2] += v
            luma[l // 16] += 1
            r2 = u * u + v * v
            if r2 < 12 * 12:
                colour[24 + l // 32] += 1
            else:
                level = 0 if r2 < 32 * 32 else 1 if r2 < 64 * 64 else 2
                colour[8 * level + sector(u, v)] += 1
            if 1 <= x <= W - 2 and 1 <= y <= H - 2:
                gx = Y(x + 1, y) - Y(x - 1, y)
                gy = Y(x, y + 1) - Y(x, y - 1)
                w = abs(gx) + abs(gy)
                if w >= 8:
                    orientation[8 * c4 + orientation_bin(gx, gy)] += w
                    edges[c8] += w
    blocks = [layout] + [hellinger_centred(h) for h in (orientation, colour, luma, edges)]
    out = []
    for block, share in zip(blocks, SHARES):
        weight = math.sqrt(share)
        out += [x * weight for x in unit(block)]
    return struct.pack('<256f', *unit(out))  # struct rounds each double to float32, ties to even


def main():
    data = sys.stdin.buffer.read()
    if len(data) % (3 * PLANE):
        sys.exit(f'frame_descriptor.py: {len(data)} bytes is not a whole number of {3 * PLANE}-byte frames')
    for at in range(0, len(data), 3 * PLANE):
        sys.stdout.buffer.write(describe(data[at : at + 3 * PLANE]))


if __name__ == '__main__':
    main()
