#!/usr/bin/env python3
"""Generate python/dpcore/dpcore_c.pxd, the Cython declarations of the whole
dpcore C API, from the cbindgen header include/dpcore.h.

    python scripts/gen-pxd.py            write the .pxd
    python scripts/gen-pxd.py --check    exit 1 (with a diff) when the
                                         committed .pxd is out of date
    python scripts/gen-pxd.py --abi-check-pyx FILE
                                         also write a Cython module that
                                         references every declaration; compiled
                                         as C and as C++ against dpcore.h it
                                         proves the .pxd matches the header

The parser knows exactly the constructs cbindgen emits for dpcore (see
cbindgen.toml) and fails, naming the header line, on anything else: a new
kind of construct must be taught here rather than silently dropped.
"""
import argparse
import ast
import difflib
import keyword
import pathlib
import re
import sys
import textwrap
from dataclasses import dataclass, field
from typing import List, Optional

ROOT = pathlib.Path(__file__).resolve().parent.parent
HEADER = ROOT / "include" / "dpcore.h"
OUTPUT = ROOT / "python" / "dpcore" / "dpcore_c.pxd"
WIDTH = 88

GUARD = "DPCORE_H"
ALLOWED_INCLUDES = {"stdbool.h", "stddef.h", "stdint.h"}
ENUM_UNDERLYING_IF = "#if defined(__cplusplus) || __STDC_VERSION__ >= 202311L"

# C base types -> the Cython module they are cimported from (None: builtin).
STDINT = ["int8_t", "int16_t", "int32_t", "int64_t", "uint8_t", "uint16_t",
          "uint32_t", "uint64_t", "intptr_t", "uintptr_t"]
BASE_TYPES = {t: "libc.stdint" for t in STDINT}
BASE_TYPES.update({"bool": "libc.stdbool", "ptrdiff_t": "libc.stddef",
                   "size_t": None, "void": None, "float": None, "double": None})
MULTIWORD = {"char", "signed char", "unsigned char", "short", "unsigned short",
             "int", "unsigned int", "unsigned", "long", "unsigned long",
             "long long", "unsigned long long"}
TYPE_WORDS = {"signed", "unsigned", "char", "short", "int", "long"}

# <stdint.h> / <stddef.h> limit macros a #define may name: their C types.
LIMITS = {}
for _t in STDINT[:8]:
    _u = _t.startswith("u")
    _n = _t[1 if _u else 0:-2].upper()  # INT8 ...
    LIMITS[("U" if _u else "") + _n + "_MAX"] = _t
    if not _u:
        LIMITS[_n + "_MIN"] = _t
LIMITS.update({"SIZE_MAX": "size_t", "INTPTR_MIN": "intptr_t",
               "INTPTR_MAX": "intptr_t", "UINTPTR_MAX": "uintptr_t",
               "PTRDIFF_MIN": "ptrdiff_t", "PTRDIFF_MAX": "ptrdiff_t"})

# Integer types of C literals and constant expressions, by conversion rank.
INT_RANK = ["int", "unsigned int", "long", "unsigned long", "long long",
            "unsigned long long"]
INT_RANGE = {"int": (-2**31, 2**31 - 1), "unsigned int": (0, 2**32 - 1),
             "long": (-2**63, 2**63 - 1), "unsigned long": (0, 2**64 - 1),
             "long long": (-2**63, 2**63 - 1), "unsigned long long": (0, 2**64 - 1)}

TYPE_RANGE = dict(INT_RANGE)
for _t in STDINT[:8]:
    _bits = int(_t.strip("uint_t"))
    TYPE_RANGE[_t] = (0, 2**_bits - 1) if _t[0] == "u" else (-2**(_bits - 1), 2**(_bits - 1) - 1)

# Identifiers Cython cannot take as names (Python keywords and Cython's own).
RESERVED = set(keyword.kwlist) | {
    "api", "bint", "by", "cdef", "char", "cimport", "const", "cpdef",
    "cppclass", "ctypedef", "DEF", "double", "ELIF", "ELSE", "enum", "exec",
    "extern", "float", "fused", "gil", "IF", "include", "inline", "int",
    "long", "namespace", "new", "noexcept", "nogil", "NULL", "object",
    "operator", "print", "public", "readonly", "short", "signed", "sizeof",
    "struct", "union", "unsigned", "void", "volatile"}


class HeaderError(Exception):
    pass


def fail(line, msg):
    raise HeaderError(f"line {line.no}: {msg}\n    {line.raw.rstrip()}")


# --------------------------------------------------------------------------
# Lexing: code lines with their doc comments attached.

@dataclass
class Line:
    no: int
    raw: str
    text: str                       # comments removed, whitespace stripped
    doc: Optional[List[str]] = None  # the /** ... */ just before the line

    @property
    def pp(self):
        return self.text.startswith("#")


def strip_comments(text, line):
    """Remove // comments and same-line /* */ comments outside literals."""
    out, i, quote = [], 0, None
    while i < len(text):
        c = text[i]
        if quote:
            out.append(c)
            if c == "\\" and i + 1 < len(text):
                out.append(text[i + 1])
                i += 1
            elif c == quote:
                quote = None
        elif c in "\"'":
            quote = c
            out.append(c)
        elif text.startswith("//", i):
            break
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                fail(line, "a /* comment that starts after code must end on its line")
            i = end + 1
        else:
            out.append(c)
        i += 1
    if quote:
        fail(line, "unterminated literal")
    return "".join(out).strip()


def lex(src):
    lines = src.split("\n")
    out, doc, i = [], None, 0
    while i < len(lines):
        raw, no = lines[i], i + 1
        s = raw.strip()
        i += 1
        if not s:
            continue
        if s.startswith("/*"):
            is_doc = s.startswith("/**") and not s.startswith("/**/")
            body, first = [], Line(no, raw, "")
            cur = s
            while True:
                end = cur.find("*/")
                body.append(cur if end < 0 else cur[:end])
                if end >= 0:
                    if cur[end + 2:].strip():
                        fail(Line(i, lines[i - 1], ""), "code after the end of a comment")
                    break
                if i >= len(lines):
                    fail(first, "unterminated comment")
                cur = lines[i].strip()
                i += 1
            if is_doc:
                if doc is not None:
                    fail(first, "two doc comments with nothing between them")
                cleaned = []
                for k, b in enumerate(body):
                    b = b[3:] if k == 0 else b
                    b = re.sub(r"^\*(?!/) ?", "", b.strip()) if k else b.strip()
                    cleaned.append(b.rstrip())
                while cleaned and not cleaned[0]:
                    cleaned.pop(0)
                while cleaned and not cleaned[-1]:
                    cleaned.pop()
                doc = cleaned
            continue
        line = Line(no, raw, "")
        line.text = strip_comments(s, line)
        if not line.text:
            fail(line, "a line holding only a // comment")
        line.doc, doc = doc, None
        out.append(line)
    if doc is not None:
        raise HeaderError("a doc comment at the end of the header documents nothing")
    return out


# --------------------------------------------------------------------------
# The model.

@dataclass
class Decl:
    """A C declaration: `base` (a type name), `ptrs` pointer levels, `name`,
    array `dims`, and `params` when it declares a function (`fnptr`: a
    pointer to one)."""
    base: str
    const: bool = False
    ptrs: int = 0
    name: Optional[str] = None
    dims: List[str] = field(default_factory=list)
    params: Optional[List["Decl"]] = None
    variadic: bool = False
    fnptr: bool = False


@dataclass
class Item:
    kind: str       # const, enum, opaque, typedef, struct, function
    name: str
    doc: Optional[List[str]]
    line: int
    ctype: Optional[str] = None     # const: C type (None: an int `enum:` constant)
    value: object = None            # const / enum value
    decl: Optional[Decl] = None     # typedef, function
    members: list = field(default_factory=list)  # enum: (name, value, doc); struct: (Decl, doc)
    underlying: Optional[str] = None  # enum: its fixed type
    typedefd: bool = False          # enum: its `typedef ... name;` block seen


# --------------------------------------------------------------------------
# Constant expressions.

NUM_RE = re.compile(r"(0[xX][0-9a-fA-F]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)([uUlL]*)$")
EXPR_TOKEN = re.compile(r"\s*(?:(\d\w*)|([A-Za-z_]\w*)|(<<|>>|[-+*|&^~()]))")


def literal_type(suffix, value, decimal, line):
    """The C type of an integer literal (C11 6.4.4.1, LP64)."""
    s = suffix.lower()
    if s not in ("", "u", "l", "ul", "lu", "ll", "ull", "llu"):
        fail(line, f"integer suffix {suffix!r} not understood")
    unsigned, longs = "u" in s, s.count("l")
    start = INT_RANK.index(["int", "long", "long long"][longs])
    for t in INT_RANK[start:]:
        if t.startswith("unsigned") and not unsigned and decimal:
            continue  # decimal literals without u stay signed
        if unsigned and not t.startswith("unsigned"):
            continue
        lo, hi = INT_RANGE[t]
        if lo <= value <= hi:
            return t
    fail(line, f"integer literal {value} fits no C type")


def eval_int_expr(expr, scope, line):
    """Evaluate an integer constant expression of literals, names in `scope`
    ({name: (type, value)}) and + - * << >> | & ^ ~ ( ). Returns (type, value)."""
    pos, py, types = 0, [], []
    while pos < len(expr):
        m = EXPR_TOKEN.match(expr, pos)
        if not m:
            fail(line, f"constant expression {expr!r} not understood at {expr[pos:]!r}")
        num, ident, op = m.groups()
        pos = m.end()
        if num:
            nm = NUM_RE.match(num)
            if not nm:
                fail(line, f"number {num!r} not understood")
            digits = nm.group(1)
            if digits[:2].lower() == "0x":
                v = int(digits, 16)
            elif digits[:2].lower() == "0b":
                v = int(digits[2:], 2)
            elif digits.startswith("0") and len(digits) > 1:
                v = int(digits, 8)
            else:
                v = int(digits)
            types.append(literal_type(nm.group(2), v, not digits.startswith("0") or digits == "0", line))
            py.append(str(v))
        elif ident:
            if ident not in scope:
                fail(line, f"{ident!r} in a constant expression is not a known integer constant")
            t, v = scope[ident]
            types.append(t)
            py.append(f"({v})")
        else:
            py.append(op)
    if not types:
        fail(line, f"empty constant expression {expr!r}")
    try:
        tree = ast.parse(" ".join(py), mode="eval")
    except SyntaxError:
        fail(line, f"constant expression {expr!r} not understood")
    ops = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b,
           ast.Mult: lambda a, b: a * b, ast.LShift: lambda a, b: a << b,
           ast.RShift: lambda a, b: a >> b, ast.BitOr: lambda a, b: a | b,
           ast.BitAnd: lambda a, b: a & b, ast.BitXor: lambda a, b: a ^ b}

    def ev(n):
        if isinstance(n, ast.Expression):
            return ev(n.body)
        if isinstance(n, ast.Constant) and type(n.value) is int:
            return n.value
        if isinstance(n, ast.BinOp) and type(n.op) in ops:
            return ops[type(n.op)](ev(n.left), ev(n.right))
        if isinstance(n, ast.UnaryOp) and isinstance(n.op, (ast.USub, ast.UAdd, ast.Invert)):
            v = ev(n.operand)
            return -v if isinstance(n.op, ast.USub) else (v if isinstance(n.op, ast.UAdd) else ~v)
        fail(line, f"constant expression {expr!r} not understood")

    value = ev(tree)
    ranks = [INT_RANK.index(t) if t in INT_RANK else None for t in types]
    if None in ranks:  # a fixed-width type from another constant: keep it if alone
        if len(types) != 1:
            fail(line, f"constant expression {expr!r} mixes typed constants")
        return types[0], value
    ctype = INT_RANK[max(ranks)]
    lo, hi = INT_RANGE[ctype]
    if not lo <= value <= hi:
        fail(line, f"constant expression {expr!r} = {value} overflows {ctype}")
    return ctype, value


# --------------------------------------------------------------------------
# Declarations.

DECL_TOKEN = re.compile(r"\s*(?:([A-Za-z_]\w*)|(\d+)|(\.\.\.)|([*()\[\],]))")


def tokenize_decl(text, line):
    toks, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        m = DECL_TOKEN.match(text, pos)
        if not m:
            fail(line, f"declaration not understood at {text[pos:]!r}")
        toks.append(next(g for g in m.groups() if g is not None))
        pos = m.end()
    return toks


class Parser:
    def __init__(self, lines):
        self.lines = lines
        self.pos = 0
        self.items: List[Item] = []
        self.types = {}          # declared type name -> Item
        self.scope = {}          # integer constants and enumerators -> (type, value)
        self.names = set()
        self.guard = False
        self.guard_closed = False
        self.extern_c = None     # None: not yet seen, True: inside, False: closed
        self.used_modules = {}
        self.typedef_names = set()  # type names usable without `struct`

    # ---- helpers
    def next_line(self, what):
        if self.pos >= len(self.lines):
            raise HeaderError(f"end of header while expecting {what}")
        line = self.lines[self.pos]
        self.pos += 1
        return line

    def expect(self, text, what=None):
        line = self.next_line(what or text)
        if line.text != text:
            fail(line, f"expected {what or text!r}")
        return line

    def declare(self, name, line):
        if name in self.names:
            fail(line, f"{name} declared twice")
        self.names.add(name)

    def add(self, item, line):
        if self.guard_closed:
            fail(line, "a declaration after the include guard's #endif")
        self.items.append(item)

    def use_type(self, base, line, struct_tag=False):
        if base in BASE_TYPES:
            mod = BASE_TYPES[base]
            if mod:
                self.used_modules.setdefault(mod, set()).add(base)
            return
        if base in MULTIWORD:
            if struct_tag:
                fail(line, f"'struct {base}'")
            return
        item = self.types.get(base)
        if item is None:
            fail(line, f"unknown type {base!r}")
        if struct_tag and item.kind not in ("opaque", "struct"):
            fail(line, f"'struct {base}' names no struct")

    # ---- the whole header
    def parse(self):
        while self.pos < len(self.lines):
            line = self.lines[self.pos]
            if line.pp:
                self.pos += 1
                self.directive(line)
            else:
                self.statement()
        if not self.guard or not self.guard_closed:
            raise HeaderError("the include guard is not opened and closed")
        if self.extern_c is not False:
            raise HeaderError('the extern "C" block is not opened and closed')
        for item in self.items:
            if item.kind == "enum" and not item.typedefd:
                raise HeaderError(f"line {item.line}: enum {item.name} has no typedef block after it")
        return self.items

    def directive(self, line):
        t = line.text
        if line.doc and not t.startswith("#define "):
            fail(line, "a doc comment on a preprocessor directive other than #define")
        if t == f"#ifndef {GUARD}" and not self.guard and not self.items:
            self.expect(f"#define {GUARD}")
            self.guard = True
            return
        if not self.guard or self.guard_closed:
            fail(line, "preprocessor directive outside the include guard")
        m = re.fullmatch(r"#include\s*<([\w./]+)>", t)
        if m:
            if m.group(1) not in ALLOWED_INCLUDES:
                fail(line, f"#include <{m.group(1)}> is not one this generator knows")
            return
        if t.startswith("#define"):
            self.define(line)
            return
        if t == "#ifdef __cplusplus":
            body = self.next_line('extern "C" {')
            if body.text == 'extern "C" {' and self.extern_c is None:
                self.extern_c = True
            elif body.text == "}" and self.extern_c is True:
                self.extern_c = False
            else:
                fail(body, 'expected the opening or closing of the extern "C" block')
            end = self.next_line("#endif")
            if not re.fullmatch(r"#endif", end.text):
                fail(end, "expected #endif")
            return
        if t == "#ifndef __cplusplus":
            self.enum_typedef(line)
            return
        if t == "#endif":
            if self.extern_c is True:
                fail(line, 'include guard closed inside the extern "C" block')
            self.guard_closed = True
            return
        fail(line, "preprocessor directive not understood")

    def define(self, line):
        m = re.fullmatch(r"#define\s+([A-Za-z_]\w*)\s+(.+)", line.text)
        if not m:
            fail(line, "only object-like #define NAME VALUE macros are understood")
        name, value = m.group(1), m.group(2).strip()
        self.declare(name, line)
        item = Item("const", name, line.doc, line.no)
        if re.fullmatch(r'"(?:[^"\\]|\\.)*"', value):
            item.ctype, item.value = "const char*", value
        elif re.fullmatch(r"[-+]?(\d+\.\d*|\.\d+)([eE][-+]?\d+)?[fF]?|[-+]?\d+[eE][-+]?\d+[fF]?", value):
            item.ctype = "float" if value[-1] in "fF" else "double"
            item.value = value
        else:
            inner = value
            while re.fullmatch(r"\((.*)\)", inner) and balanced(inner[1:-1]):
                inner = inner[1:-1].strip()
            cast = re.fullmatch(r"\(\s*([A-Za-z_][\w ]*?)\s*\)\s*(.+)", inner)
            if inner in LIMITS:
                item.ctype, item.value = LIMITS[inner], inner
                self.use_type(item.ctype, line)
            elif cast and (cast.group(1) in BASE_TYPES or cast.group(1) in MULTIWORD
                           or cast.group(1) in self.typedef_names):
                ctype = cast.group(1)
                _, v = eval_int_expr(cast.group(2), self.scope, line)
                lo, hi = TYPE_RANGE.get(ctype, (v, v))
                if not lo <= v <= hi:
                    fail(line, f"the cast changes the value {v}")
                item.ctype, item.value = ctype, v
                self.use_type(ctype, line)
                self.scope[name] = (ctype, v)
            else:
                ctype, v = eval_int_expr(value, self.scope, line)
                item.ctype = None if ctype == "int" else ctype
                item.value = v
                self.scope[name] = (ctype, v)
        self.add(item, line)

    def enum_typedef(self, first):
        """cbindgen's `typedef` of a fixed-type enum:
        #ifndef __cplusplus / #if C23 / typedef enum X X; / #else /
        typedef T X; / #endif / #endif"""
        last = self.items[-1] if self.items else None
        if last is None or last.kind != "enum" or last.typedefd:
            fail(first, "#ifndef __cplusplus not right after an enum")
        self.expect("#if __STDC_VERSION__ >= 202311L")
        self.expect(f"typedef enum {last.name} {last.name};")
        self.expect("#else")
        self.expect(f"typedef {last.underlying} {last.name};")
        for _ in range(2):
            end = self.next_line("#endif")
            if end.text != "#endif":
                fail(end, "expected #endif")
        last.typedefd = True
        self.typedef_names.add(last.name)

    # ---- statements
    def statement(self):
        stmt, depth = [], 0
        while True:
            line = self.next_line("the end of a declaration (;)")
            if line.pp:
                # Only cbindgen's fixed underlying type of an enum:
                # `#if defined(__cplusplus) || ...` / `: int32_t` / `#endif`.
                in_enum = bool(stmt) and stmt[0].text.startswith("enum ")
                if in_enum and (line.text == ENUM_UNDERLYING_IF or (
                        line.text == "#endif" and len(stmt) >= 2
                        and stmt[-2].text == ENUM_UNDERLYING_IF)):
                    stmt.append(line)
                    continue
                fail(line, "preprocessor directive inside a declaration")
            stmt.append(line)
            depth += line.text.count("{") - line.text.count("}")
            if depth < 0:
                fail(line, "unbalanced }")
            if depth == 0 and line.text.endswith(";"):
                break
        head = stmt[0]
        if head.text.startswith("enum "):
            self.enum(stmt)
        elif head.text.startswith("typedef struct ") and head.text.endswith("{"):
            self.struct(stmt)
        elif head.text.startswith("typedef "):
            self.typedef(stmt)
        elif re.match(r"(struct|union|enum)\b", head.text) or "{" in head.text:
            fail(head, "declaration not understood")
        else:
            self.function(stmt)

    def enum(self, stmt):
        head = stmt[0]
        m = re.fullmatch(r"enum ([A-Za-z_]\w*)", head.text)
        if not m:
            fail(head, "expected `enum NAME` on its own line")
        name, k, underlying = m.group(1), 1, None
        if k < len(stmt) and stmt[k].text == ENUM_UNDERLYING_IF:
            um = re.fullmatch(r":\s*([A-Za-z_]\w*)", stmt[k + 1].text)
            if not um or stmt[k + 2].text != "#endif" or um.group(1) not in BASE_TYPES:
                fail(stmt[k + 1], "expected `: <fixed-width integer type>` then #endif")
            underlying = um.group(1)
            self.use_type(underlying, stmt[k + 1])
            k += 3
        if underlying is None:
            fail(head, "an enum without a fixed underlying type (not what cbindgen.toml asks for)")
        if stmt[k].text != "{":
            fail(stmt[k], "expected { on its own line")
        if stmt[-1].text != "};":
            fail(stmt[-1], "expected }; on its own line")
        self.declare(name, head)
        item = Item("enum", name, head.doc, head.no, underlying=underlying)
        prev = -1
        body = stmt[k + 1:-1]
        for n, line in enumerate(body):
            comma = ",?" if n == len(body) - 1 else ","
            em = re.fullmatch(r"([A-Za-z_]\w*)(?:\s*=\s*(.+?))?\s*" + comma, line.text)
            if not em:
                fail(line, "expected `NAME = VALUE,` in an enum")
            vname = em.group(1)
            self.declare(vname, line)
            v = eval_int_expr(em.group(2), self.scope, line)[1] if em.group(2) else prev + 1
            self.scope[vname] = ("int", v)
            prev = v
            item.members.append((vname, v, line.doc))
        if not item.members:
            fail(head, "an enum with no values")
        self.types[name] = item
        self.add(item, head)

    def struct(self, stmt):
        head = stmt[0]
        m = re.fullmatch(r"typedef struct ([A-Za-z_]\w*) \{", head.text)
        if not m:
            fail(head, "expected `typedef struct NAME {`")
        name = m.group(1)
        end = re.fullmatch(r"\}\s*([A-Za-z_]\w*);", stmt[-1].text)
        if not end or end.group(1) != name:
            fail(stmt[-1], f"expected `}} {name};`")
        if name in self.types and self.types[name].kind == "opaque":
            fail(head, f"struct {name} was declared opaque before")
        self.declare(name, head)
        item = Item("struct", name, head.doc, head.no)
        self.types[name] = item          # fields may point at the struct itself
        self.typedef_names.add(name)
        pending, doc, first = "", None, None
        for line in stmt[1:-1]:
            if not pending:
                doc, first = line.doc, line
            elif line.doc:
                fail(line, "a doc comment inside a field declaration")
            pending = (pending + " " + line.text).strip()
            if pending.endswith(";"):
                decl = self.decl(pending[:-1], first, want_name=True)
                if decl.params is not None and not decl.fnptr:
                    fail(first, "a function declared inside a struct")
                if decl.name in [f.name for f, _ in item.members]:
                    fail(first, f"field {decl.name} declared twice")
                item.members.append((decl, doc))
                pending = ""
        if pending:
            fail(stmt[-1], "a field declaration without its ;")
        if not item.members:
            fail(head, "a struct without fields")
        self.add(item, head)

    def typedef(self, stmt):
        head = stmt[0]
        text = " ".join(l.text for l in stmt)
        for l in stmt[1:]:
            if l.doc:
                fail(l, "a doc comment inside a typedef")
        m = re.fullmatch(r"typedef struct ([A-Za-z_]\w*) ([A-Za-z_]\w*);", text)
        if m:
            tag, name = m.groups()
            if tag != name:
                fail(head, "`typedef struct A B;` with A != B is not understood")
            if name in self.types:
                fail(head, f"{name} declared twice")
            self.declare(name, head)
            item = Item("opaque", name, head.doc, head.no)
            self.types[name] = item
            self.typedef_names.add(name)
            self.add(item, head)
            return
        decl = self.decl(text[len("typedef "):-1], head, want_name=True)
        if decl.params is not None and not decl.fnptr:
            fail(head, "a typedef of a function type (not a pointer to one)")
        self.declare(decl.name, head)
        item = Item("typedef", decl.name, head.doc, head.no, decl=decl)
        self.types[decl.name] = item
        self.typedef_names.add(decl.name)
        self.add(item, head)

    def function(self, stmt):
        head = stmt[0]
        if self.extern_c is not True:
            fail(head, 'a function prototype outside the extern "C" block')
        for l in stmt[1:]:
            if l.doc:
                fail(l, "a doc comment inside a prototype")
        text = " ".join(l.text for l in stmt)
        if not text.endswith(");"):
            fail(head, "declaration not understood (not a function prototype)")
        decl = self.decl(text[:-1], head, want_name=True)
        if decl.params is None or decl.fnptr or decl.dims:
            fail(head, "declaration not understood (not a function prototype)")
        self.declare(decl.name, head)
        self.add(Item("function", decl.name, head.doc, head.no, decl=decl), head)

    # ---- declarators
    def decl(self, text, line, want_name):
        toks = tokenize_decl(text, line)
        d, rest = self.parse_decl(toks, line, want_name)
        if rest:
            fail(line, f"unexpected {' '.join(rest)!r} in a declaration")
        return d

    def parse_decl(self, toks, line, want_name):
        i, const, words, base, tag = 0, False, [], None, False
        while i < len(toks):
            t = toks[i]
            if t == "const":
                if const:
                    fail(line, "const twice")
                const = True
            elif t in ("volatile", "restrict", "static", "extern", "inline", "register", "union", "enum"):
                fail(line, f"'{t}' in a declaration is not understood")
            elif t == "struct":
                if base or words or i + 1 >= len(toks) or not re.fullmatch(r"[A-Za-z_]\w*", toks[i + 1]):
                    fail(line, "struct tag not understood")
                base, tag = toks[i + 1], True
                i += 1
            elif t in TYPE_WORDS and base is None:
                words.append(t)
            elif re.fullmatch(r"[A-Za-z_]\w*", t) and base is None and not words:
                base = t
            else:
                break
            i += 1
        if words:
            base = " ".join(words)
            if base not in MULTIWORD:
                fail(line, f"type {base!r} not understood")
        if base is None:
            fail(line, "a declaration without a type")
        self.use_type(base, line, struct_tag=tag)
        d = Decl(base=base, const=const)
        while i < len(toks) and toks[i] == "*":
            d.ptrs += 1
            i += 1
            if i < len(toks) and toks[i] == "const":
                fail(line, "const pointers (`* const`) are not understood")
        if toks[i:i + 2] == ["(", "*"]:
            i += 2
            if i < len(toks) and re.fullmatch(r"[A-Za-z_]\w*", toks[i]):
                d.name = toks[i]
                i += 1
            if toks[i:i + 1] != [")"] or toks[i + 1:i + 2] != ["("]:
                fail(line, "function pointer declarator not understood")
            d.fnptr = True
            i += 1
        elif i < len(toks) and re.fullmatch(r"[A-Za-z_]\w*", toks[i]):
            d.name = toks[i]
            i += 1
        if toks[i:i + 1] == ["("]:
            depth, j = 0, i
            while j < len(toks):
                depth += {"(": 1, ")": -1}.get(toks[j], 0)
                if depth == 0:
                    break
                j += 1
            if j == len(toks):
                fail(line, "unbalanced ( in a declaration")
            d.params, d.variadic = self.params(toks[i + 1:j], line)
            i = j + 1
        while toks[i:i + 1] == ["["]:
            if len(toks) < i + 3 or toks[i + 2] != "]" or not re.fullmatch(r"\w+", toks[i + 1]):
                fail(line, "array declarator not understood")
            dim = toks[i + 1]
            if not dim.isdigit() and dim not in self.scope:
                fail(line, f"array size {dim!r} is not a number or known constant")
            d.dims.append(dim)
            i += 3
        if want_name and not d.name:
            fail(line, "a declaration without a name")
        if d.base == "void" and not d.ptrs and d.params is None and d.name:
            fail(line, "an object of type void")
        return d, toks[i:]

    def params(self, toks, line):
        if toks == ["void"]:
            return [], False
        if not toks:
            fail(line, "`()` parameter lists are not prototypes; cbindgen writes (void)")
        groups, cur, depth = [], [], 0
        for t in toks:
            if t == "," and depth == 0:
                groups.append(cur)
                cur = []
                continue
            depth += {"(": 1, ")": -1}.get(t, 0)
            cur.append(t)
        groups.append(cur)
        out, variadic = [], False
        for k, g in enumerate(groups):
            if g == ["..."]:
                if k != len(groups) - 1 or k == 0:
                    fail(line, "... not understood here")
                variadic = True
                continue
            p, rest = self.parse_decl(g, line, want_name=False)
            if rest:
                fail(line, f"parameter {' '.join(g)!r} not understood")
            out.append(p)
        return out, variadic


def balanced(s):
    depth = 0
    for c in s:
        depth += {"(": 1, ")": -1}.get(c, 0)
        if depth < 0:
            return False
    return depth == 0


# --------------------------------------------------------------------------
# Rendering.

def cy_param_name(name):
    return name + "_" if name in RESERVED else name


def cy_entity(name):
    """A declared name; one Cython cannot take gets a Cython name and keeps
    its C name as a string."""
    return f'{name}_ "{name}"' if name in RESERVED else name


def render_type_prefix(d):
    return ("const " if d.const else "") + d.base


def render_decl(d, name=None, entity=False):
    """Cython text of declaration `d`; `name` overrides its name ('' drops it)."""
    name = d.name if name is None else name
    if name:
        name = cy_entity(name) if entity else cy_param_name(name)
    base = render_type_prefix(d)
    stars = "*" * d.ptrs
    if d.params is not None:
        params = ", ".join(render_decl(p) for p in d.params)
        if d.variadic:
            params += ", ..."
        if d.fnptr:
            ret = base + (" " + stars if stars else "")
            return f"{ret} (*{name or ''})({params}) noexcept nogil"
        return f"{base} {stars}{name}({params})"
    dims = "".join(f"[{x}]" for x in d.dims)
    if not name:
        return base + (" " + stars if stars else "")
    return f"{base} {stars}{name}{dims}"


def first_sentence(doc):
    if not doc:
        return None
    para = []
    for l in doc:
        if not l.strip():
            break
        para.append(l.strip())
    text = " ".join(para)
    m = re.search(r"(?<!\be\.g)(?<!\bi\.e)(?<!\betc)(?<!\bvs)\.(?=\s|$)", text)
    return text[:m.end()] if m else text


def comment(doc, indent):
    s = first_sentence(doc)
    if not s:
        return []
    return [" " * indent + "# " + w for w in textwrap.wrap(s, WIDTH - indent - 2,
                                                         break_long_words=False,
                                                         break_on_hyphens=False)]


BANNER = """\
# dpcore_c.pxd: Cython declarations of the whole dpcore C API.
# GENERATED by scripts/gen-pxd.py from include/dpcore.h; do not edit by hand:
# run `python scripts/gen-pxd.py` after `make header` and commit both
# (`python scripts/gen-pxd.py --check` fails when this file is out of date).
#
#     from dpcore.dpcore_c cimport *        # or
#     cimport dpcore.dpcore_c as dpc
#
# and compile with `scripts/dpcore-config --cflags --libs` (Cython include
# path: `scripts/dpcore-config --cython-includes`). Comments are the first
# sentence of each doc comment in dpcore.h, which has the full contracts.
#
# How the C constructs appear here:
# - every extern function is `nogil` and `noexcept`: check the dpc_status
#   they return (two-call strings: see dpc_last_error_message).
# - enums are `ctypedef enum` types named like their C typedefs (int32_t in
#   C, `enum X : int32_t` in C++ and C23): assign them their DPC_* values,
#   not bare ints; functions that take an `int32_t` key accept the values.
# - `#define` integer constants are `enum:` entries (usable as array sizes);
#   ones of another type are `const` entries of that type.
# - function pointer types (callbacks: loggers, DLPack deleters, ...) are
#   `noexcept nogil`: dpcore may call them on any thread, without the GIL.
# - C's `bool` is libc.stdbool's; a star cimport brings it (and the
#   libc.stdint types) in too, shadowing the Python builtin `bool`.
"""


def wrap_prototype(text):
    """Break a long prototype (or function pointer typedef) after commas of
    its parameter list, continuing under the list's `(`."""
    if len(text) <= WIDTH:
        return [text]
    suffix = ""
    if text.endswith(" noexcept nogil"):
        text, suffix = text[:-len(" noexcept nogil")], " noexcept nogil"
    depth, open_at = 0, None
    for k in range(len(text) - 1, -1, -1):  # the ( matching the final )
        depth += {")": 1, "(": -1}.get(text[k], 0)
        if depth == 0:
            open_at = k + 1
            break
    head, params = text[:open_at], text[open_at:-1]
    parts = [p.strip() for p in split_top(params)]
    lines, cur = [], head
    for k, p in enumerate(parts):
        piece = p + ("," if k < len(parts) - 1 else ")" + suffix)
        if cur != head and len(cur) + 1 + len(piece) > WIDTH:
            lines.append(cur)
            cur = " " * open_at + piece
        else:
            cur = cur + ("" if cur == head else " ") + piece
    lines.append(cur)
    return lines


def split_top(text):
    parts, cur, depth = [], "", 0
    for c in text:
        if c == "," and depth == 0:
            parts.append(cur)
            cur = ""
            continue
        depth += {"(": 1, ")": -1}.get(c, 0)
        cur += c
    return parts + [cur]


def render(items, modules):
    out = [BANNER.rstrip("\n"), ""]
    for mod in sorted(modules):
        names = sorted(modules[mod], key=lambda n: (STDINT + [n]).index(n))
        out.append(f"from {mod} cimport {', '.join(names)}")
    out += ["", "", 'cdef extern from "dpcore.h" nogil:']
    prev_kind = None
    for item in items:
        if not (item.kind == prev_kind == "const" and not item.doc):
            out.append("")
        prev_kind = item.kind
        out += comment(item.doc, 4)
        if item.kind == "const":
            if item.ctype is None:
                out.append(f"    enum: {cy_entity(item.name)} = {item.value}")
            else:
                ctype = item.ctype if item.ctype.startswith("const ") else "const " + item.ctype
                out.append(f"    {ctype} {cy_entity(item.name)}  # {item.value}")
        elif item.kind == "enum":
            out.append(f"    # `{item.underlying}` in C; `enum {item.name} : {item.underlying}` "
                       "in C++ and C23.")
            out.append(f"    ctypedef enum {cy_entity(item.name)}:")
            for name, value, doc in item.members:
                out += comment(doc, 8)
                out.append(f"        {cy_entity(name)} = {value}")
        elif item.kind == "opaque":
            out.append(f"    ctypedef struct {cy_entity(item.name)}")
        elif item.kind == "struct":
            out.append(f"    ctypedef struct {cy_entity(item.name)}:")
            for decl, doc in item.members:
                out += comment(doc, 8)
                out.append("        " + render_decl(decl, entity=True))
        elif item.kind == "typedef":
            out += wrap_prototype("    ctypedef " + render_decl(item.decl, entity=True))
        elif item.kind == "function":
            out += wrap_prototype("    " + render_decl(item.decl, entity=True))
    return "\n".join(out) + "\n"


def render_abi_check(items):
    """A Cython module that uses every declaration of the .pxd with its
    declared type, so that compiling it against dpcore.h as C (with
    -Werror=incompatible-pointer-types) and as C++ fails on any mismatch in
    names or types; its `mismatches()` compares every constant and enum
    value the .pxd states with the header's, at run time."""
    out = ["# cython: language_level=3",
           "# GENERATED by scripts/gen-pxd.py --abi-check-pyx: checks python/dpcore/dpcore_c.pxd",
           "# against include/dpcore.h (compile as C and as C++; run mismatches()).",
           "from dpcore.dpcore_c cimport *"]
    limits = sorted({i.value for i in items if i.kind == "const" and i.value in LIMITS})
    if limits:
        out.append(f"from libc.stdint cimport {', '.join(limits)}")
    body, checks, funcs = [], [], []
    for n, item in enumerate(items, 1):
        v = f"v{n}"
        if item.kind == "const":
            cname = cy_entity(item.name).split()[0]
            if item.ctype is None:
                body.append(f"cdef long long {v} = {cname}")
                checks.append((cname, str(item.value)))
            else:
                body.append(f"cdef {item.ctype} {v} = {cname}")
                if item.ctype == "const char*":
                    checks.append((cname, "b" + item.value))
                elif item.ctype in ("float", "double"):
                    checks.append((cname, f"<{item.ctype}>{item.value.rstrip('fF')}"))
                else:
                    checks.append((cname, str(item.value)))
        elif item.kind == "enum":
            body.append(f"cdef {cy_entity(item.name).split()[0]} {v} = {item.members[0][0]}")
            for name, value, _ in item.members:
                body.append(f"{v} = {cy_entity(name).split()[0]}")
                checks.append((cy_entity(name).split()[0], str(value)))
            body.append(f"cdef {item.underlying} *{v}_p = <{item.underlying} *>&{v}")
        elif item.kind == "opaque":
            body.append(f"cdef {item.name} *{v} = NULL")
        elif item.kind == "struct":
            body.append(f"cdef {item.name} *{v} = NULL")
            for k, (decl, _) in enumerate(item.members):
                fname = cy_entity(decl.name).split()[0]
                if decl.fnptr:
                    body += [f"cdef {render_decl(decl, name=f'{v}_{k}')}", f"{v}_{k} = {v}.{fname}",
                             f"{v}.{fname} = {callback(decl, f'_{v}_{k}', funcs)}"]
                else:
                    ptr = Decl(base=decl.base, const=decl.const,
                               ptrs=decl.ptrs + 1, dims=decl.dims[1:])
                    if ptr.dims:
                        fail_msg = f"struct {item.name}: multi-dimensional array field"
                        raise HeaderError(fail_msg)
                    amp = "" if decl.dims else "&"
                    body.append(f"cdef {render_decl(ptr, name=f'{v}_{k}')} = {amp}{v}.{fname}")
        elif item.kind == "typedef":
            d = item.decl
            if d.fnptr:
                same = Decl(base=d.base, const=d.const, ptrs=d.ptrs, params=d.params,
                            variadic=d.variadic, fnptr=True)
                body.append(f"cdef {item.name} {v} = {callback(d, f'_{v}', funcs)}")
                body += [f"cdef {render_decl(same, name=f'{v}_same')}", f"{v}_same = {v}"]
            else:
                body.append(f"cdef {item.name} {v}")
                ptr = Decl(base=d.base, const=d.const, ptrs=d.ptrs + 1)
                body.append(f"cdef {render_decl(ptr, name=f'{v}_p')} = &{v}")
        elif item.kind == "function":
            d = item.decl
            fp = Decl(base=d.base, const=d.const, ptrs=d.ptrs, params=d.params,
                      variadic=d.variadic, fnptr=True)
            body += [f"cdef {render_decl(fp, name=v)}", f"{v} = {cy_entity(d.name).split()[0]}"]
    for f in funcs:
        out += ["", ""] + f
    out += ["", "", "cdef void _use_everything() noexcept nogil:"]
    out += ["    " + b for b in body]
    out += ["", "", "def mismatches():",
            '    """(name, value in dpcore.h, value in the .pxd) of every constant',
            '    and enum value that differs; [] when they all agree."""',
            "    if False:",
            "        _use_everything()",
            "    bad = []"]
    for name, value in checks:
        out.append(f"    if {name} != {value}:")
        out.append(f"        bad.append(({name!r}, {name}, {value}))")
    out += ["    return bad", ""]
    return "\n".join(out)


def callback(d, name, funcs):
    """Define a function of the type function pointer `d` points at (so the
    C compiler checks it against the header's callback type); return its name."""
    params = ", ".join(render_decl(p, name=f"p{k}") for k, p in enumerate(d.params))
    ret = Decl(base=d.base, const=d.const, ptrs=d.ptrs)
    lines = [f"cdef {render_decl(ret, name='')} {name}({params}) noexcept nogil:"]
    if d.base == "void" and not d.ptrs:
        lines.append("    pass")
    else:
        lines += [f"    cdef {render_decl(ret, name='r')}", "    return r"]
    funcs.append(lines)
    return name


def generate(header_path):
    src = header_path.read_text(encoding="utf-8")
    parser = Parser(lex(src))
    items = parser.parse()
    return items, render(items, parser.used_modules)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true",
                    help="exit 1 when the output file differs from what would be generated")
    ap.add_argument("--header", type=pathlib.Path, default=HEADER, help="the C header (default: %(default)s)")
    ap.add_argument("-o", "--output", type=pathlib.Path, default=OUTPUT,
                    help="the .pxd to write or check (default: %(default)s)")
    ap.add_argument("--abi-check-pyx", type=pathlib.Path, metavar="FILE",
                    help="also write a Cython module referencing every declaration")
    args = ap.parse_args(argv)
    try:
        items, text = generate(args.header)
    except HeaderError as e:
        print(f"gen-pxd: {args.header}: {e}", file=sys.stderr)
        print("gen-pxd: this construct is not understood; teach scripts/gen-pxd.py about it",
              file=sys.stderr)
        return 2
    if args.abi_check_pyx:
        args.abi_check_pyx.write_text(render_abi_check(items), encoding="utf-8")
    shown = args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output
    if args.check:
        old = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if old == text:
            print(f"{shown} is up to date")
            return 0
        diff = difflib.unified_diff(old.splitlines(True), text.splitlines(True),
                                    f"{shown} (committed)", f"{shown} (generated)")
        sys.stderr.writelines(diff)
        print(f"{shown} is out of date with {args.header.name}: "
              "run 'python scripts/gen-pxd.py' and commit it", file=sys.stderr)
        return 1
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {shown}: {sum(i.kind == 'function' for i in items)} functions, "
          f"{sum(i.kind in ('enum', 'opaque', 'struct', 'typedef') for i in items)} types, "
          f"{sum(i.kind == 'const' for i in items)} constants")
    return 0


if __name__ == "__main__":
    sys.exit(main())
