#!/usr/bin/env python3
"""Rewrite the DT_RUNPATH (or DT_RPATH) of a 64-bit little-endian ELF shared
object in place, as chrpath does: the new value must not be longer than the
old one (the string table is not grown). Used by the install rules of CMakeLists.txt so that
installed libraries carry no path into the build tree.

Usage: set-runpath.py FILE NEW_RUNPATH     (prints the old and new values)
"""
import struct
import sys


def dynamic(data):
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise SystemExit("set-runpath: not a 64-bit little-endian ELF file")
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    loads, dyn = [], None
    for i in range(phnum):
        p_type, _, off, vaddr, _, filesz = struct.unpack_from("<IIQQQQ", data, phoff + i * phentsize)
        if p_type == 1:
            loads.append((off, vaddr, filesz))
        elif p_type == 2:
            dyn = (off, filesz)
    if dyn is None:
        raise SystemExit("set-runpath: no dynamic section")
    entries = []
    for k in range(0, dyn[1], 16):
        tag, val = struct.unpack_from("<qQ", data, dyn[0] + k)
        if tag == 0:
            break
        entries.append((tag, val))
    strtab = next(v for t, v in entries if t == 5)
    off, vaddr, _ = next(l for l in loads if l[1] <= strtab < l[1] + l[2])
    return entries, off + (strtab - vaddr)


def main():
    path, new = sys.argv[1], sys.argv[2].encode()
    data = bytearray(open(path, "rb").read())
    entries, strbase = dynamic(data)
    paths = [v for t, v in entries if t in (15, 29)]  # DT_RPATH, DT_RUNPATH
    if not paths:
        raise SystemExit(f"set-runpath: {path} has no RUNPATH to rewrite")
    for o in paths:
        start = strbase + o
        end = data.index(b"\0", start)
        old = bytes(data[start:end])
        if len(new) > len(old):
            raise SystemExit(f"set-runpath: {new!r} is longer than the old value {old!r}")
        data[start:end] = new + b"\0" * (len(old) - len(new))
        print(f"{path}: RUNPATH {old.decode()} -> {new.decode()}")
    open(path, "wb").write(data)


if __name__ == "__main__":
    main()
