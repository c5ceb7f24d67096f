#!/usr/bin/env python3
"""Draws the app icon (a tide line over a blue-teal rounded square) as RGBA PNGs.

Run from this folder: python3 make_icons.py
"""
import math
import struct
import zlib


def png(size):
    def lerp(a, b, t):
        return tuple(int(a[i] + (b[i] - a[i]) * t) for i in range(3))

    top, bottom = (58, 99, 216), (42, 157, 143)
    radius = size * 0.22
    rows = []
    for y in range(size):
        row = bytearray([0])
        for x in range(size):
            # Rounded-square mask with a one-pixel soft edge.
            dx = max(radius - x - 0.5, 0, x + 0.5 - (size - radius))
            dy = max(radius - y - 0.5, 0, y + 0.5 - (size - radius))
            d = math.hypot(dx, dy) - radius
            alpha = max(0.0, min(1.0, 0.5 - d))
            r, g, b = lerp(top, bottom, (x + y) / (2 * size))
            u, v = x / size, y / size
            # The tide line (a sine wave) and the mark post above it.
            wave = 0.58 + 0.06 * math.sin(u * math.tau * 1.5)
            line = abs(v - wave) < 0.045
            post = abs(u - 0.5) < 0.04 and 0.2 < v < wave
            low = v > wave + 0.12 and abs(v - (wave + 0.17 + 0.04 * math.sin(u * math.tau * 1.5 + 1))) < 0.03
            if line or post:
                r, g, b = 255, 255, 255
            elif low:
                r, g, b = lerp((r, g, b), (255, 255, 255), 0.5)
            row += bytes([r, g, b, int(alpha * 255)])
        rows.append(bytes(row))
    raw = b"".join(rows)

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


for name, size in [("32x32.png", 32), ("128x128.png", 128), ("128x128@2x.png", 256), ("icon.png", 512)]:
    with open(name, "wb") as f:
        f.write(png(size))
