#!/usr/bin/env python3
"""Generate fortran/dpcore.f90, the Fortran 2008 module `dpcore` declaring the
whole dpcore C API, from the cbindgen header include/dpcore.h.

    python3 scripts/gen-fortran.py            write the module
    python3 scripts/gen-fortran.py --check    exit 1 (with a diff) when the
                                              committed module is out of date
    python3 scripts/gen-fortran.py --abi-check DIR
                                              write test programs into DIR:
                                              abi_check.c and abi_check.f90 print
                                              every integer constant, struct size
                                              and field offset and the size of
                                              every C type used (as C against
                                              dpcore.h, as Fortran against the
                                              module): their outputs must be
                                              identical; abi_calls.f90 calls every
                                              interface, for --check-abi
    python3 scripts/gen-fortran.py --check-abi PROTOS DUMP
                                              compare the module with the header
                                              at the ABI level, from gfortran's
                                              view: PROTOS is `gfortran
                                              -fc-prototypes` of the module (each
                                              argument's C type), DUMP the
                                              -fdump-tree-original of abi_calls.f90
                                              (by value or by reference); every
                                              function and callback must take the
                                              same sizes and pointer levels

The header is read with the parser of scripts/gen-pxd.py (imported, not
copied), which fails, naming the header line, on any construct it does not
know. This script adds its own loud failures for what Fortran 2008 cannot
express (variadic functions, opaque types by value, names Fortran cannot
take or that collide once case is ignored, ...). How each C construct maps to
Fortran is described in BANNER below, which heads the generated module.
"""
import argparse
import difflib
import importlib.util
import pathlib
import re
import sys
import textwrap
import unicodedata
from dataclasses import dataclass

ROOT = pathlib.Path(__file__).resolve().parent.parent
HEADER = ROOT / "include" / "dpcore.h"
OUTPUT = ROOT / "fortran" / "dpcore.f90"
WIDTH = 100        # wrap generated lines here
HARD_LIMIT = 132   # Fortran 2008 free-form line length


def _load_pxd_generator():
    spec = importlib.util.spec_from_file_location("dpcore_gen_pxd", ROOT / "scripts" / "gen-pxd.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


pxd = _load_pxd_generator()
HeaderError = pxd.HeaderError


class FortranError(Exception):
    """A header construct the parser knows but Fortran 2008 cannot express."""


# --------------------------------------------------------------------------
# C types -> Fortran kinds.

# Integer C type -> (iso_c_binding kind, bits, unsigned). LP64 is assumed
# (long is 64 bits), as by gen-pxd; the --abi-check programs verify it.
INT_KINDS = {
    "int8_t": ("c_int8_t", 8, False), "uint8_t": ("c_int8_t", 8, True),
    "int16_t": ("c_int16_t", 16, False), "uint16_t": ("c_int16_t", 16, True),
    "int32_t": ("c_int32_t", 32, False), "uint32_t": ("c_int32_t", 32, True),
    "int64_t": ("c_int64_t", 64, False), "uint64_t": ("c_int64_t", 64, True),
    "intptr_t": ("c_intptr_t", 64, False), "uintptr_t": ("c_intptr_t", 64, True),
    "ptrdiff_t": ("c_ptrdiff_t", 64, False), "size_t": ("c_size_t", 64, True),
    "signed char": ("c_signed_char", 8, False), "unsigned char": ("c_signed_char", 8, True),
    "short": ("c_short", 16, False), "unsigned short": ("c_short", 16, True),
    "int": ("c_int", 32, False), "unsigned int": ("c_int", 32, True),
    "unsigned": ("c_int", 32, True),
    "long": ("c_long", 64, False), "unsigned long": ("c_long", 64, True),
    "long long": ("c_long_long", 64, False), "unsigned long long": ("c_long_long", 64, True),
}
REAL_KINDS = {"float": "c_float", "double": "c_double"}

# Pointer parameters dpcore documents as optional (NULL allowed and
# meaningful): they stay `type(c_ptr), value` so that c_null_ptr can be
# passed, whatever they point at. A name no parameter has any more is
# reported as a warning. (The header says which pointers may be NULL only in
# prose, so this is a table: a new optional typed pointer parameter must be
# added here, or Fortran callers cannot pass NULL for it.)
NULLABLE = {
    "event_out": "NULL: no event is made",
    "events": "NULL with n_events 0: no dependencies",
    "local": "NULL: a plain range, no work-group size",
    "host_strides": "NULL: C-contiguous",
    "strides": "NULL: C-contiguous",
    "starts": "NULL: all bounds not given",
    "stops": "NULL: all bounds not given",
    "steps": "NULL: all steps 1",
    "buf": "NULL: the first call of the two-call pattern",
}
# `T *NAME_out` outputs that receive an array rather than one value.
ARRAY_OUT = {"shape_out", "strides_out", "sizes_out", "uuid_out"}

# Names the module defines besides the header's (the hand-written helpers of
# HELPERS) and the names it re-exports: all take part in the collision check.
HELPER_NAMES = {
    "dpc_f_c_string", "dpc_f_string", "dpc_f_status_name", "dpc_f_version_string",
    "dpc_f_check", "dpc_f_last_error_message", "dpc_f_last_error_build_log",
    "dpc_f_diagnostics", "dpc_f_device_info_string", "dpc_f_device_name",
    "dpc_f_buffer_fn", "dpc_f_buffer_string", "dpc_f_chars_to_string", "error_unit",
}
ISO_C_BINDING_NAMES = {
    "c_int", "c_short", "c_long", "c_long_long", "c_signed_char", "c_size_t",
    "c_int8_t", "c_int16_t", "c_int32_t", "c_int64_t", "c_int_least8_t",
    "c_int_least16_t", "c_int_least32_t", "c_int_least64_t", "c_int_fast8_t",
    "c_int_fast16_t", "c_int_fast32_t", "c_int_fast64_t", "c_intmax_t", "c_intptr_t",
    "c_ptrdiff_t", "c_float", "c_double", "c_long_double", "c_float_complex",
    "c_double_complex", "c_long_double_complex", "c_bool", "c_char", "c_null_char",
    "c_alert", "c_backspace", "c_form_feed", "c_new_line", "c_carriage_return",
    "c_horizontal_tab", "c_vertical_tab", "c_ptr", "c_funptr", "c_null_ptr",
    "c_null_funptr", "c_associated", "c_f_pointer", "c_f_procpointer", "c_funloc",
    "c_loc", "c_sizeof",
}
NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,62}$")


@dataclass
class FType:
    text: str            # Fortran type spec: integer(c_int32_t), type(c_ptr), ...
    cat: str             # int real bool char struct handle funptr void opaque
    unsigned: bool = False
    kind: str = ""       # iso_c_binding kind of int/real
    bits: int = 0        # int width


@dataclass
class Arg:
    """One dummy argument (or struct field) as Fortran declares it."""
    name: str            # Fortran name
    decl: str            # type spec with attributes, without the name
    ctype: str           # the C type, for the trailing comment
    dims: str = ""       # "(n, m)" for array fields


def ffail(msg):
    raise FortranError(msg)


def check_name(name, what):
    if not NAME_RE.match(name):
        ffail(f"{what} {name!r} is not a Fortran name (a letter first, then up to "
              "62 letters, digits or _)")
    return name


class Mapper:
    def __init__(self, items):
        self.items = items
        self.types = {i.name: i for i in items if i.kind in ("enum", "struct", "opaque", "typedef")}
        self.used_nullable = set()
        self.used_array_out = set()

    # ---- types
    def base_type(self, base, seen=()):
        """FType of C type name `base` and the pointer levels its typedef adds."""
        if base in INT_KINDS:
            kind, bits, uns = INT_KINDS[base]
            return FType(f"integer({kind})", "int", uns, kind, bits), 0
        if base in REAL_KINDS:
            return FType(f"real({REAL_KINDS[base]})", "real", kind=REAL_KINDS[base]), 0
        if base == "bool":
            return FType("logical(c_bool)", "bool"), 0
        if base == "char":
            return FType("character(kind=c_char)", "char"), 0
        if base == "void":
            return FType("", "void"), 0
        item = self.types.get(base)
        if item is None:
            ffail(f"C type {base!r} has no Fortran mapping")
        if item.kind == "enum":
            if item.underlying not in INT_KINDS:
                ffail(f"enum {base}: underlying type {item.underlying} has no Fortran kind")
            kind, bits, uns = INT_KINDS[item.underlying]
            return FType(f"integer({kind})", "int", uns, kind, bits), 0
        if item.kind == "struct":
            return FType(f"type({base})", "struct"), 0
        if item.kind == "opaque":
            return FType("type(c_ptr)", "opaque"), 0
        d = item.decl  # typedef
        if d.fnptr:
            return FType("type(c_funptr)", "funptr"), 0
        if d.dims:
            ffail(f"typedef {base}: array typedefs are not understood")
        if d.const and d.ptrs:
            ffail(f"typedef {base}: a typedef of a pointer to const is not understood")
        if base in seen:
            ffail(f"typedef {base} refers to itself")
        ft, extra = self.base_type(d.base, seen + (base,))
        return ft, extra + d.ptrs

    def effective(self, d, where):
        """(FType, pointer levels, untyped) of declaration `d`: a handle (a
        pointer to an opaque struct) becomes type(c_ptr) with one level less,
        void* an untyped type(c_ptr), and two or more levels a pointer to a
        type(c_ptr)."""
        ft, extra = self.base_type(d.base)
        nptr = d.ptrs + extra
        untyped = False
        if ft.cat == "opaque":
            if nptr == 0:
                ffail(f"{where}: an opaque struct ({d.base}) by value")
            ft, nptr = FType("type(c_ptr)", "handle"), nptr - 1
        elif ft.cat == "void":
            if nptr == 0:
                ffail(f"{where}: an object of type void")
            ft, nptr, untyped = FType("type(c_ptr)", "handle"), nptr - 1, True
            if nptr:
                untyped = False
        if nptr >= 2:
            ft, nptr, untyped = FType("type(c_ptr)", "handle"), 1, False
        return ft, nptr, untyped

    def abi_shape(self, d, where):
        """(pointer levels, class of what is pointed at or passed) of C
        declaration `d` at the ABI level: a handle is one level to void, an
        integer iN by its bytes (signed and unsigned alike: Fortran has no
        unsigned), f4/f8, bool, c1 (char), fptr, struct NAME."""
        if d.fnptr:
            return 0, "fptr"
        ft, extra = self.base_type(d.base)
        cls = {"int": f"i{ft.bits // 8}", "real": "f4" if ft.kind == "c_float" else "f8",
               "bool": "bool", "char": "c1", "struct": f"struct {d.base}", "funptr": "fptr",
               "opaque": "void", "void": "void"}.get(ft.cat)
        if cls is None:
            ffail(f"{where}: no ABI class for {d.base}")
        return d.ptrs + extra, cls

    @staticmethod
    def ctype_text(d):
        if d.fnptr:
            return "function pointer"
        s = ("const " if d.const else "") + d.base
        if d.ptrs:
            s += " " + "*" * d.ptrs
        if d.dims:
            s += "".join(f"[{x}]" for x in d.dims)
        return s

    def param(self, d, name, where):
        """The Fortran dummy argument for C parameter `d` (rules in BANNER)."""
        ct = self.ctype_text(d)
        if d.fnptr:
            return Arg(name, "type(c_funptr), value", ct)
        ft, nptr, untyped = self.effective(d, where)
        if nptr == 0:
            return Arg(name, f"{ft.text}, value", ct)
        if ft.cat == "char":
            if d.const:
                return Arg(name, "character(kind=c_char), dimension(*), intent(in)",
                           ct + ", NUL-terminated")
            return Arg(name, "type(c_ptr), value", ct)
        if untyped:
            return Arg(name, "type(c_ptr), value", ct)
        if d.name in NULLABLE:
            self.used_nullable.add(d.name)
            return Arg(name, "type(c_ptr), value", f"{ct}, may be NULL")
        if d.const:
            return Arg(name, f"{ft.text}, dimension(*), intent(in)", ct)
        if d.name and d.name.endswith("_out"):
            if d.name in ARRAY_OUT:
                self.used_array_out.add(d.name)
                return Arg(name, f"{ft.text}, dimension(*), intent(out)", ct)
            return Arg(name, f"{ft.text}, intent(out)", ct)
        return Arg(name, "type(c_ptr), value", ct)

    def result(self, d, where):
        """Fortran result type of a function returning `d` (None: a subroutine)."""
        ct = self.ctype_text(d)
        ft, extra = self.base_type(d.base)
        if d.ptrs + extra == 0 and ft.cat == "void":
            return None
        ft, nptr, _ = self.effective(d, where)
        if nptr:
            return Arg("", "type(c_ptr)", ct)
        if ft.cat == "char":
            ffail(f"{where}: a function returning char by value")
        return Arg("", ft.text, ct)

    def field(self, d, where):
        ct = self.ctype_text(d)
        name = check_name(d.name, f"{where}: field")
        dims = ""
        if d.dims:
            # C is row-major, Fortran column-major: a[2][3] is a(3, 2).
            dims = "(" + ", ".join(reversed(d.dims)) + ")"
        if d.fnptr:
            return Arg(name, "type(c_funptr)", ct, dims)
        ft, nptr, _ = self.effective(d, where)
        if nptr:
            return Arg(name, "type(c_ptr)", ct, dims)
        return Arg(name, ft.text, ct, dims)


# --------------------------------------------------------------------------
# Constants.

def int_literal(value, kind, bits, unsigned, where):
    """A Fortran literal of `kind` for C value `value`; unsigned values past
    the signed range become their two's complement bit pattern."""
    lo, hi = -2 ** (bits - 1), 2 ** (bits - 1) - 1
    note = ""
    if unsigned:
        if not 0 <= value < 2 ** bits:
            ffail(f"{where}: value {value} does not fit {bits} unsigned bits")
        if value > hi:
            note = f"{value} as unsigned: the same bits"
            value -= 2 ** bits
    elif not lo <= value <= hi:
        ffail(f"{where}: value {value} does not fit {kind}")
    if value == lo:
        return f"-{hi}_{kind} - 1_{kind}", note
    return f"{value}_{kind}", note


def limit_value(name):
    ctype = pxd.LIMITS[name]
    kind, bits, uns = INT_KINDS[ctype]
    if name.endswith("_MIN"):
        return -2 ** (bits - 1)
    return 2 ** bits - 1 if uns else 2 ** (bits - 1) - 1


def real_literal(text, kind):
    t = text.rstrip("fF")
    if t.startswith("+"):
        t = t[1:]
    return f"{t}_{kind}"


def string_literal(text, where):
    body = text[1:-1]
    out = []
    i = 0
    while i < len(body):
        c = body[i]
        if c == "\\":
            nxt = body[i + 1]
            if nxt not in "\\\"'":
                ffail(f"{where}: escape \\{nxt} in a string constant is not understood")
            out.append(nxt)
            i += 2
            continue
        if not 32 <= ord(c) < 127:
            ffail(f"{where}: non-ASCII or control character in a string constant")
        out.append(c)
        i += 1
    return '"' + "".join(out).replace('"', '""') + '"'


# --------------------------------------------------------------------------
# Rendering helpers.

def ascii_text(s):
    folded = {"\u2026": "...", "\u2014": "--", "\u2013": "-", "\u2018": "'", "\u2019": "'",
              "\u201c": '"', "\u201d": '"', "\u2192": "->", "\u00d7": "x", "\u2264": "<=",
              "\u2265": ">="}
    s = "".join(folded.get(c, c) for c in s)
    return unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode("ascii")


def comment(doc, indent):
    s = pxd.first_sentence(doc)
    if not s:
        return []
    return [" " * indent + "! " + w for w in textwrap.wrap(
        ascii_text(s), WIDTH - indent - 2, break_long_words=False, break_on_hyphens=False)]


def decl_line(indent, arg, name=None):
    name = arg.name if name is None else name
    line = f"{' ' * indent}{arg.decl} :: {name}{arg.dims}"
    if arg.ctype:
        line += f"  ! {arg.ctype}"
    return line


def wrap_call(indent, head, args, tail):
    """`head(a, b, ...) tail`, continued with & after commas past WIDTH."""
    text = f"{' ' * indent}{head}({', '.join(args)}){tail}"
    if len(text) <= WIDTH:
        return [text]
    call = f"{' ' * indent}{head}({', '.join(args)})"
    if tail.strip():
        if len(call) + 2 <= WIDTH:
            return [call + " &", " " * (indent + 4) + tail.strip()]
        lines = wrap_call(indent, head, args, "")
        return lines[:-1] + [lines[-1] + " &", " " * (indent + 4) + tail.strip()]
    lines, cur = [], f"{' ' * indent}{head}("
    cont = " " * (indent + 4)
    for k, a in enumerate(args):
        piece = a + (", " if k < len(args) - 1 else f"){tail}")
        if len(cur) + len(piece.rstrip()) + 2 > WIDTH and cur.strip() and not cur.endswith("("):
            lines.append(cur.rstrip() + " &")
            cur = cont
        cur += piece
    lines.append(cur.rstrip())
    return lines


# --------------------------------------------------------------------------
# The module.

BANNER = """\
! dpcore.f90: the Fortran 2008 module `dpcore`, declaring the whole dpcore C API.
! GENERATED by scripts/gen-fortran.py from include/dpcore.h; do not edit by hand:
! run `python3 scripts/gen-fortran.py` after `make header` and commit both
! (`python3 scripts/gen-fortran.py --check` fails when this file is out of date).
!
!     use dpcore        ! also brings in the names of iso_c_binding
!
! Compile with `gfortran -std=f2008 -c dpcore.f90` and link with -ldpcore
! (examples-fortran/build.sh shows both). Comments are the first sentence of
! each doc comment in dpcore.h, which has the full contracts; the comment at
! the end of each declaration names its C type.
!
! How the C API appears here:
! - Handles (dpc_device, dpc_queue, dpc_kernel, ...: pointers to opaque
!   structs) are type(c_ptr). A NULL handle is c_null_ptr; test handles with
!   c_associated(). Root devices, platforms and canonical queues are immortal;
!   release what the C API says the caller releases.
! - #define constants are parameters of the kind of their C type (a plain
!   integer constant is C's int: integer(c_int)); enum values are parameters
!   of the enum's fixed underlying type, integer(c_int32_t). Fortran has no
!   named enum types: enum-typed arguments and results are integer(c_int32_t).
! - Fortran has no unsigned integers: uintN_t and size_t are the signed
!   integer kind of the same size (uint64_t is integer(c_int64_t), size_t is
!   integer(c_size_t)). Values past huge() of the kind appear negative (the
!   same bits); constants like that are written as their bit pattern.
! - bool is logical(c_bool); float and double are real(c_float)/real(c_double).
! - Structs are bind(c) derived types with the same names and fields in the
!   same order; pointer fields are type(c_ptr), function pointer fields
!   type(c_funptr), array fields arrays (C's a[2][3] is a(3, 2)).
! - Function pointer types (callbacks) and function pointer fields are
!   abstract interfaces (a field F of struct S: S_F): write a bind(c)
!   procedure with that interface and pass c_funloc(it); c_null_funptr is NULL.
! - Functions are interface bodies with bind(c, name="..."): dpc_status
!   results are integer(c_int32_t) (compare with DPC_SUCCESS), functions
!   returning void are subroutines, pointer results (const char *) type(c_ptr)
!   (dpc_f_string converts them). Arguments:
!     * scalars, handles, structs and function pointers: by value (value);
!     * const char * (NUL-terminated input strings): character(kind=c_char),
!       dimension(*); pass dpc_f_c_string(s) or 'text'//c_null_char. A NULL
!       cannot be passed: where the C API allows NULL (build options) pass an
!       empty string, which dpcore treats the same;
!     * void *, const void * and char * (memory, user data, output buffers):
!       type(c_ptr), value; pass c_loc(x) (x with the target attribute), a USM
!       pointer, or c_null_ptr;
!     * T * (T a typed object: an integer, handle, struct, ...) by reference:
!       const T * are input arrays, dimension(*), intent(in) (for one value
!       pass [x]); T *NAME_out are outputs, intent(out), one value each except
{array_out}
!       T **NAME_out (void **ptr_out, ...) are one type(c_ptr), intent(out);
!     * the pointers dpcore documents as optional stay type(c_ptr), value so
!       c_null_ptr can be passed:
{nullable}
!       Other non-const T * that are not outputs are type(c_ptr), value too.
! - Helpers (module procedures, dpc_f_*): dpc_f_check(status, what) stops with
!   the status name and dpcore's message on failure; dpc_f_c_string(s) makes
!   a NUL-terminated character array; dpc_f_string(p) reads a C string;
!   dpc_f_status_name, dpc_f_version_string, dpc_f_last_error_message,
!   dpc_f_last_error_build_log, dpc_f_diagnostics, dpc_f_device_info_string
!   and dpc_f_device_name return allocatable strings (the two-call pattern
!   done for you); every enqueue function ending in (events, n_events,
!   event_out) has a dpc_f_ twin without those three (no dependencies, no
!   event): dpc_f_usm_memcpy, dpc_f_kernel_launch, ...
"""

def banner():
    def listing(names, head, tail):
        text = head + ", ".join(names) + tail
        return "\n".join("!       " + w for w in textwrap.wrap(text, 70))
    return BANNER.rstrip("\n").format(
        array_out=listing(sorted(ARRAY_OUT), "", " (arrays);"),
        nullable=listing([n + " (" + why + ")" for n, why in NULLABLE.items()], "", "."))


HELPERS = """\
  ! A NUL-terminated copy of s for arguments of type const char *
  ! (character(kind=c_char), dimension(*)): dpc_device_select(dpc_f_c_string(trim(filter)), dev).
  ! Trailing blanks are kept: trim() them where they are not meant.
  pure function dpc_f_c_string(s) result(cs)
    character(len=*), intent(in) :: s
    character(kind=c_char) :: cs(len(s) + 1)
    integer :: i
    do i = 1, len(s)
      cs(i) = achar(iachar(s(i:i)), kind=c_char)
    end do
    cs(len(s) + 1) = c_null_char
  end function dpc_f_c_string

  ! The NUL-terminated C string at p as a Fortran string ('' for c_null_ptr),
  ! e.g. the result of dpc_status_name or dpc_version_string.
  function dpc_f_string(p) result(s)
    type(c_ptr), intent(in) :: p
    character(len=:), allocatable :: s
    character(kind=c_char), pointer :: chars(:)
    integer :: i, n
    if (.not. c_associated(p)) then
      s = ''
      return
    end if
    call c_f_pointer(p, chars, [huge(0)])
    n = 0
    do while (chars(n + 1) /= c_null_char)
      n = n + 1
    end do
    allocate (character(len=n) :: s)
    do i = 1, n
      s(i:i) = achar(iachar(chars(i)))
    end do
  end function dpc_f_string

  ! The characters of buf up to its first NUL (all of it without one).
  function dpc_f_chars_to_string(buf) result(s)
    character(kind=c_char), intent(in) :: buf(:)
    character(len=:), allocatable :: s
    integer :: i, n
    n = size(buf)
    do i = 1, size(buf)
      if (buf(i) == c_null_char) then
        n = i - 1
        exit
      end if
    end do
    allocate (character(len=n) :: s)
    do i = 1, n
      s(i:i) = achar(iachar(buf(i)))
    end do
  end function dpc_f_chars_to_string

  ! The name of a status code, e.g. 'DPC_ERROR_INVALID_HANDLE'.
  function dpc_f_status_name(status) result(s)
    integer(c_int32_t), intent(in) :: status
    character(len=:), allocatable :: s
    s = dpc_f_string(dpc_status_name(status))
  end function dpc_f_status_name

  ! The version of the loaded library, e.g. '0.1.0'.
  function dpc_f_version_string() result(s)
    character(len=:), allocatable :: s
    s = dpc_f_string(dpc_version_string())
  end function dpc_f_version_string

  ! The text of a two-call function (buf, capacity, size_out): asks for the
  ! size, then fetches with some slack, again if the text grew in between.
  function dpc_f_buffer_string(fn, status) result(s)
    procedure(dpc_f_buffer_fn) :: fn
    integer(c_int32_t), intent(out), optional :: status
    character(len=:), allocatable :: s
    character(kind=c_char), allocatable, target :: buf(:)
    integer(c_size_t) :: need
    integer(c_int32_t) :: st
    integer :: attempt
    s = ''
    need = 0
    st = fn(c_null_ptr, 0_c_size_t, need)
    do attempt = 1, 4
      if (st /= DPC_SUCCESS) exit
      if (allocated(buf)) deallocate (buf)
      allocate (buf(need + 256_c_size_t))
      st = fn(c_loc(buf), size(buf, kind=c_size_t), need)
      if (st == DPC_SUCCESS) s = dpc_f_chars_to_string(buf)
      if (st /= DPC_ERROR_BUFFER_TOO_SMALL) exit
    end do
    if (present(status)) status = st
  end function dpc_f_buffer_string

  ! The message of the last failure on this thread ('' if none).
  function dpc_f_last_error_message(status) result(s)
    integer(c_int32_t), intent(out), optional :: status
    character(len=:), allocatable :: s
    s = dpc_f_buffer_string(dpc_last_error_message, status)
  end function dpc_f_last_error_message

  ! The build log of the last failure on this thread ('' unless it was a build).
  function dpc_f_last_error_build_log(status) result(s)
    integer(c_int32_t), intent(out), optional :: status
    character(len=:), allocatable :: s
    s = dpc_f_buffer_string(dpc_last_error_build_log, status)
  end function dpc_f_last_error_build_log

  ! The multi-line diagnostics report (dpc_diagnostics).
  function dpc_f_diagnostics(status) result(s)
    integer(c_int32_t), intent(out), optional :: status
    character(len=:), allocatable :: s
    s = dpc_f_buffer_string(dpc_diagnostics, status)
  end function dpc_f_diagnostics

  ! A string property of device (key: DPC_DEVICE_INFO_NAME ... _FILTER_STRING).
  ! Without status, a failure stops the program (dpc_f_check).
  function dpc_f_device_info_string(device, key, status) result(s)
    type(c_ptr), intent(in) :: device
    integer(c_int32_t), intent(in) :: key
    integer(c_int32_t), intent(out), optional :: status
    character(len=:), allocatable :: s
    character(kind=c_char), allocatable, target :: buf(:)
    integer(c_size_t) :: need
    integer(c_int32_t) :: st
    s = ''
    need = 0
    st = dpc_device_get_info_string(device, key, c_null_ptr, 0_c_size_t, need)
    if (st == DPC_SUCCESS) then
      allocate (buf(need))
      st = dpc_device_get_info_string(device, key, c_loc(buf), size(buf, kind=c_size_t), need)
      if (st == DPC_SUCCESS) s = dpc_f_chars_to_string(buf)
    end if
    if (present(status)) then
      status = st
    else
      call dpc_f_check(st, 'dpc_device_get_info_string')
    end if
  end function dpc_f_device_info_string

  ! The name of device. A failure stops the program (dpc_f_check).
  function dpc_f_device_name(device) result(s)
    type(c_ptr), intent(in) :: device
    character(len=:), allocatable :: s
    s = dpc_f_device_info_string(device, DPC_DEVICE_INFO_NAME)
  end function dpc_f_device_name

  ! Do nothing when status is DPC_SUCCESS; otherwise print
  ! "WHAT failed: STATUS_NAME (code): message" to standard error and stop
  ! the program with exit status 1 (error stop).
  subroutine dpc_f_check(status, what)
    integer(c_int32_t), intent(in) :: status
    character(len=*), intent(in) :: what
    character(len=16) :: code
    if (status == DPC_SUCCESS) return
    write (code, '(i0)') status
    write (error_unit, '(a)') what // ' failed: ' // dpc_f_status_name(status) // ' (' // &
      trim(code) // '): ' // dpc_f_last_error_message()
    flush (error_unit)
    error stop 1
  end subroutine dpc_f_check
"""

HELPER_INTERFACE = """\
  ! The interface of the two-call functions (buf, capacity, size_out):
  ! dpc_last_error_message, dpc_diagnostics, dpc_backend_get_runtime, ...
  abstract interface
    function dpc_f_buffer_fn(buf, capacity, size_out) bind(c)
      import
      integer(c_int32_t) :: dpc_f_buffer_fn
      type(c_ptr), value :: buf
      integer(c_size_t), value :: capacity
      integer(c_size_t), intent(out) :: size_out
    end function dpc_f_buffer_fn
  end interface
"""


class Generator:
    def __init__(self, items):
        self.items = items
        self.m = Mapper(items)
        self.module_names = {}   # lower-case name -> what declared it
        self.procs = {}          # interface name -> (result Arg or None, [Arg], is a callback)

    def claim(self, name, what):
        check_name(name, what)
        low = name.lower()
        if low in self.module_names:
            ffail(f"{what} {name} and {self.module_names[low]} are the same Fortran name "
                  "(Fortran ignores case)")
        self.module_names[low] = f"{what} {name}"

    # ---- pieces
    def dummies(self, params, where, result_name):
        """Fortran dummy arguments of C parameters `params`."""
        out, seen = [], set()
        for k, p in enumerate(params, 1):
            name = p.name or f"arg{k}"
            check_name(name, f"{where}: parameter")
            fname = name
            while fname.lower() in self.module_names or fname.lower() == result_name.lower() \
                    or fname.lower() in ISO_C_BINDING_NAMES:
                fname += "_"
            if fname.lower() in seen:
                ffail(f"{where}: parameters {name} collide once case is ignored")
            seen.add(fname.lower())
            out.append(self.m.param(p, fname, f"{where}, parameter {name}"))
        return out

    def procedure(self, name, decl, label, indent, doc):
        """An interface body for C function (or function pointer) `decl`."""
        where = f"function {name}" if label else f"callback {name}"
        if decl.variadic:
            ffail(f"{where}: variadic functions cannot be declared in Fortran 2008")
        res = self.m.result(ReturnType(decl), where)
        args = self.dummies(decl.params, where, name)
        kind = "function" if res else "subroutine"
        bind = f' bind(c, name="{label}")' if label else " bind(c)"
        i = " " * indent
        lines = comment(doc, indent)
        lines += wrap_call(indent, f"{kind} {name}", [a.name for a in args], bind)
        lines.append(f"{i}  import")
        if res:
            lines.append(decl_line(indent + 2, res, name))
        lines += [decl_line(indent + 2, a) for a in args]
        lines.append(f"{i}end {kind} {name}")
        self.procs[name] = (res, args, label is None)
        return lines, res, args

    # ---- the whole module
    def render(self):
        items = self.items
        consts = [i for i in items if i.kind == "const"]
        enums = [i for i in items if i.kind == "enum"]
        structs = [i for i in items if i.kind == "struct"]
        fntypes = [i for i in items if i.kind == "typedef" and i.decl.fnptr]
        funcs = [i for i in items if i.kind == "function"]
        for i in items:
            if i.kind == "typedef" and not i.decl.fnptr:
                self.m.base_type(i.name)  # fails on typedefs with no mapping

        # Claim every module-level name first, so parameter names can avoid them.
        for n in sorted(ISO_C_BINDING_NAMES | HELPER_NAMES):
            self.module_names[n] = "helper or iso_c_binding name"
        for c in consts:
            self.claim(c.name, "constant")
        for e in enums:
            for name, _, _ in e.members:
                self.claim(name, f"value of enum {e.name}")
        for s in structs:
            self.claim(s.name, "struct")
        for t in fntypes:
            self.claim(t.name, "callback type")
        field_fns = []
        for s in structs:
            for d, doc in s.members:
                if d.fnptr:
                    fname = f"{s.name}_{d.name}"
                    self.claim(fname, f"interface of function pointer field {s.name}.{d.name}")
                    field_fns.append((fname, d, s, doc))
        for f in funcs:
            self.claim(f.name, "function")
        wrappers = []
        for f in funcs:
            ps = f.decl.params
            if (len(ps) >= 3 and [p.name for p in ps[-3:]] == ["events", "n_events", "event_out"]
                    and f.decl.base == "dpc_status" and not f.decl.ptrs
                    and ps[-2].base == "size_t" and not ps[-2].ptrs):
                wname = "dpc_f_" + f.name[len("dpc_"):] if f.name.startswith("dpc_") else "dpc_f_" + f.name
                self.claim(wname, f"no-event twin of {f.name}")
                wrappers.append((wname, f))

        out = banner().split("\n") + ["", "module dpcore", "  use, intrinsic :: iso_c_binding",
               "  use, intrinsic :: iso_fortran_env, only: error_unit", "  implicit none", "",
               "  private :: error_unit, dpc_f_buffer_string, dpc_f_chars_to_string"]

        # Constants.
        out += ["", "  ! ---- #define constants"]
        prev_doc = True
        for c in consts:
            if c.doc or prev_doc:
                out.append("")
            prev_doc = bool(c.doc)
            out += comment(c.doc, 2)
            out.append(self.constant(c))

        # Enums.
        for e in enums:
            kind, bits, uns = INT_KINDS[e.underlying]
            out += ["", f"  ! ---- enum {e.name} ({e.underlying}; arguments of this type are "
                    f"integer({kind}))"]
            out += comment(e.doc, 2)
            for name, value, doc in e.members:
                out += comment(doc, 2)
                lit, note = int_literal(value, kind, bits, uns, f"enum {e.name} value {name}")
                line = f"  integer({kind}), parameter :: {name} = {lit}"
                out.append(line + (f"  ! {note}" if note else ""))

        # Structs.
        for s in structs:
            out += ["", f"  ! ---- struct {s.name}"]
            out += comment(s.doc, 2)
            out.append(f"  type, bind(c) :: {s.name}")
            seen = set()
            for d, doc in s.members:
                a = self.m.field(d, f"struct {s.name}")
                if a.name.lower() in seen:
                    ffail(f"struct {s.name}: fields {a.name} collide once case is ignored")
                seen.add(a.name.lower())
                out += comment(doc, 4)
                out.append(decl_line(4, a))
            out.append(f"  end type {s.name}")

        # Callbacks.
        if fntypes or field_fns:
            out += ["", "  ! ---- callback types (pass c_funloc of a bind(c) procedure with this interface)",
                    "  abstract interface"]
            for t in fntypes:
                lines, _, _ = self.procedure(t.name, t.decl, None, 4, t.doc)
                out += [""] + lines
            for fname, d, s, doc in field_fns:
                lines, _, _ = self.procedure(fname, d, None, 4,
                                             doc or [f"The function pointer field {d.name} of {s.name}."])
                out += [""] + lines
            out.append("  end interface")
        out += [""] + HELPER_INTERFACE.rstrip("\n").split("\n")

        # Functions.
        out += ["", "  ! ---- functions", "  interface"]
        self.signatures = {}
        for f in funcs:
            lines, res, args = self.procedure(f.name, f.decl, f.name, 4, f.doc)
            self.signatures[f.name] = (res, args)
            out += [""] + lines
        out.append("  end interface")

        # Module procedures.
        out += ["", "contains", ""]
        for wname, f in wrappers:
            out += self.wrapper(wname, f) + [""]
        out += HELPERS.rstrip("\n").split("\n")
        out += ["", "end module dpcore"]

        self.warnings = []
        for k, table, used in (("NULLABLE", NULLABLE, self.m.used_nullable),
                               ("ARRAY_OUT", ARRAY_OUT, self.m.used_array_out)):
            stale = sorted(set(table) - used)
            if stale:
                self.warnings.append(f"{k} names {', '.join(stale)}, which no typed pointer parameter "
                                     "of the header is called any more: update the table")
        for n, line in enumerate(out, 1):
            if len(line) > HARD_LIMIT:
                ffail(f"generated line {n} is longer than {HARD_LIMIT} characters: {line}")
        return "\n".join(out) + "\n"

    def constant(self, c):
        where = f"constant {c.name}"
        if c.ctype == "const char*":
            return f"  character(kind=c_char, len=*), parameter :: {c.name} = " \
                   f"{string_literal(c.value, where)}"
        if c.ctype in ("float", "double"):
            kind = REAL_KINDS[c.ctype]
            return f"  real({kind}), parameter :: {c.name} = {real_literal(c.value, kind)}"
        ctype = c.ctype or "int"
        value = c.value
        note = ""
        if isinstance(value, str):          # a <stdint.h> limit macro
            note = value
            value = limit_value(value)
        item = self.m.types.get(ctype)
        if ctype not in INT_KINDS:
            if item is None or item.kind not in ("enum", "typedef"):
                ffail(f"{where}: constants of type {ctype} are not understood")
            ft, extra = self.m.base_type(ctype)
            if ft.cat != "int" or extra:
                ffail(f"{where}: constants of type {ctype} are not understood")
            kind, bits, uns = ft.kind, ft.bits, ft.unsigned
        else:
            kind, bits, uns = INT_KINDS[ctype]
        lit, n2 = int_literal(value, kind, bits, uns, where)
        note = "; ".join(x for x in (note, n2) if x)
        return f"  integer({kind}), parameter :: {c.name} = {lit}" + (f"  ! {note}" if note else "")

    def wrapper(self, wname, f):
        res, args = self.signatures[f.name]
        keep = args[:-3]
        n_events = args[-2]
        zero = "0_" + re.search(r"integer\((\w+)\)", n_events.decl).group(1)
        lines = [f"  ! {f.name} with no dependencies and no event (events and event_out NULL, "
                 "n_events 0)."]
        lines += wrap_call(2, f"function {wname}", [a.name for a in keep], "")
        lines.append(decl_line(4, res, wname))
        lines += [decl_line(4, a) for a in keep]
        call = wrap_call(4, f"{wname} = {f.name}",
                         [a.name for a in keep] + ["c_null_ptr", zero, "c_null_ptr"], "")
        lines += call
        lines.append(f"  end function {wname}")
        return lines


class ReturnType:
    """The return type of a function declaration (its base and pointers)."""

    def __init__(self, d):
        self.base, self.const, self.ptrs = d.base, d.const, d.ptrs
        self.fnptr, self.dims, self.name, self.params = False, [], None, None


# --------------------------------------------------------------------------
# Checks against the C compiler and gfortran.

def render_abi_check(gen):
    """C and Fortran programs printing the same lines when the module's
    constants and struct layouts match the header's."""
    items = gen.items
    c = ["/* GENERATED by scripts/gen-fortran.py --abi-check: dpcore.h's side. */",
         "#include <stddef.h>", "#include <stdint.h>", "#include <stdio.h>", '#include "dpcore.h"',
         "", "int main(void) {"]
    f = ["! GENERATED by scripts/gen-fortran.py --abi-check: the Fortran module's side.",
         "program abi_check", "  use dpcore", "  implicit none", "  integer(c_intptr_t) :: base"]
    fdecl, fbody = [], []
    fmt_i = "'(a, 1x, a, 1x, i0)'"

    def both(tag, what, cexpr, fexpr):
        c.append(f'  printf("{tag} {what} %lld\\n", (long long)({cexpr}));')
        fbody.append(f"  write (*, {fmt_i}) '{tag}', '{what}', &")
        fbody.append(f"    int({fexpr}, c_int64_t)")

    signed_c = {8: "int8_t", 16: "int16_t", 32: "int32_t", 64: "int64_t"}
    for i in items:
        if i.kind == "const" and i.ctype not in ("const char*", "float", "double"):
            ctype = i.ctype or "int"
            ft, _ = gen.m.base_type(ctype)
            both("const", i.name, f"({signed_c[ft.bits]})({i.name})", i.name)
        elif i.kind == "enum":
            ft, _ = gen.m.base_type(i.name)
            for name, _, _ in i.members:
                both("const", name, f"({signed_c[ft.bits]})({name})", name)
    used = set()
    for n, i in enumerate(items, 1):
        if i.kind != "struct":
            continue
        v = f"s{n}"
        fdecl.append(f"  type({i.name}), target :: {v}")
        fbody.append(f"  base = transfer(c_loc({v}), base)")
        both("sizeof", i.name, f"sizeof(struct {i.name})", f"c_sizeof({v})")
        for d, _ in i.members:
            both("offset", f"{i.name}.{d.name}", f"offsetof(struct {i.name}, {d.name})",
                 f"transfer(c_loc({v}%{d.name}), base) - base")
            if not d.ptrs and not d.fnptr:
                used.add(d.base)
    for i in items:
        if i.kind == "function":
            for d in i.decl.params + [ReturnType(i.decl)]:
                if not d.ptrs and not d.fnptr:
                    used.add(d.base)
    for t in sorted(used):
        if t in INT_KINDS or t in REAL_KINDS or t in ("bool", "char"):
            ft, _ = gen.m.base_type(t)
            val = {"int": f"0_{ft.kind}", "real": f"0.0_{ft.kind}", "bool": ".false._c_bool",
                   "char": "c_null_char"}[ft.cat]
            both("type", t.replace(" ", "_"), f"sizeof({t})", f"storage_size({val}) / 8")
    c += ["  return 0;", "}", ""]
    f += fdecl + fbody + ["end program abi_check", ""]
    return "\n".join(c), "\n".join(f)


PROTO_RE = re.compile(r"^\s*(?P<ret>[\w ]+?)\s*(?P<star>\**)\s*(?P<name>\w+)\s*\((?P<params>.*)\);$")
GF_CLASS = {"signed char": "i1", "short": "i2", "int": "i4", "long": "i8", "long long": "i8",
            "int8_t": "i1", "int16_t": "i2", "int32_t": "i4", "int64_t": "i8", "size_t": "i8",
            "ptrdiff_t": "i8", "intptr_t": "i8", "_Bool": "bool", "float": "f4", "double": "f8",
            "char": "c1", "void": "void"}


def gf_shape(text, structs, named=True):
    """(pointer levels, class) of a type in gfortran's C prototypes."""
    t = re.sub(r"\bconst\b", "", text).strip()
    if "(*" in t:
        return t.count("*") - 1, "fptr"
    levels = t.count("*")
    words = t.replace("*", " ").split()
    if named:
        words = words[:-1]  # the parameter's name
    base = " ".join(words)
    if base in GF_CLASS:
        return levels, GF_CLASS[base]
    if base in structs:
        return levels, f"struct {base}"
    return levels, f"? {text}"


def shapes_match(header, fortran):
    """A Fortran type(c_ptr) erases what it points at: passed by value it is
    (1, void) and stands for any pointer (n >= 1, X); by reference it is
    (2, void) and stands for a pointer to any pointer (n >= 2, X). Everything
    else must be equal."""
    return header == fortran or (fortran[1] == "void" and 1 <= fortran[0] <= header[0])


def split_params(s):
    parts, cur, depth = [], "", 0
    for ch in s:
        if ch == "," and depth == 0:
            parts.append(cur.strip())
            cur = ""
            continue
        depth += {"(": 1, ")": -1}.get(ch, 0)
        cur += ch
    if cur.strip():
        parts.append(cur.strip())
    return [] if parts == ["void"] else parts


def render_calls(gen):
    """A Fortran program calling every interface (callbacks through procedure
    pointers) with variables v<k>_<j>: in gfortran's -fdump-tree-original of
    it, an argument passed by reference shows as &v<k>_<j> (or a cast of it),
    one passed by value as plain v<k>_<j>. Compiled, never run."""
    decls, body = [], []
    for k, (name, (res, args, callback)) in enumerate(sorted(gen.procs.items()), 1):
        names = []
        for j, a in enumerate(args, 1):
            spec = a.decl.replace("dimension(*)", "dimension(1)")
            spec = ", ".join(x for x in spec.split(", ")
                             if x != "value" and not x.startswith("intent("))
            decls.append(f"  {spec} :: v{k}_{j}")
            names.append(f"v{k}_{j}")
        callee = name
        if callback:
            callee = f"p{k}"
            decls.append(f"  procedure({name}), pointer :: p{k}")
        if res:
            decls.append(f"  {res.decl} :: r{k}")
            body += wrap_call(2, f"r{k} = {callee}", names, "")
        else:
            body += wrap_call(2, f"call {callee}", names, "")
    return "\n".join(["! GENERATED by scripts/gen-fortran.py --abi-check: compiled with",
                      "! -fdump-tree-original to see how each argument is passed.",
                      "program abi_calls", "  use dpcore", "  implicit none"]
                     + decls + body + ["end program abi_calls", ""])


def calls_by_reference(gen, dump):
    """{interface name: [passed by reference?]} from the GENERIC dump of
    render_calls' program."""
    out = {}
    for k, (name, (res, args, callback)) in enumerate(sorted(gen.procs.items()), 1):
        callee = f"p{k}" if callback else name
        m = re.search(r"(?:^|[\s=(*])" + re.escape(callee) + r" \((.*)\);\s*$", dump, re.M)
        if not m:
            out[name] = None
            continue
        passed = split_params(m.group(1)) if args else []
        out[name] = [p.strip() != f"v{k}_{j}" for j, p in enumerate(passed, 1)]
    return out


def check_abi(gen, protos_text, calls_dump):
    """Compare the module's bind(c) interfaces with the header's functions and
    callback types at the ABI level: `protos_text` is `gfortran
    -fc-prototypes` of the module (the C type of each argument: its kind; it
    prints type(c_ptr) as void * whether passed by value or not) and
    `calls_dump` the -fdump-tree-original of render_calls' program (whether
    each argument is passed by reference). Returns a list of problems."""
    structs = {i.name for i in gen.items if i.kind == "struct"}
    protos = {}
    for line in protos_text.splitlines():
        m = PROTO_RE.match(line)
        if not m or line.lstrip().startswith(("typedef", "#", "}")):
            continue
        ret = gf_shape(m.group("ret") + m.group("star"), structs, named=False)
        protos[m.group("name")] = [ret] + [gf_shape(p, structs) for p in split_params(m.group("params"))]
    by_ref = calls_by_reference(gen, calls_dump)
    expected = {}
    for i in gen.items:
        if i.kind == "function":
            expected[i.name] = i.decl
        elif i.kind == "typedef" and i.decl.fnptr:
            expected[i.name] = i.decl
        elif i.kind == "struct":
            for d, _ in i.members:
                if d.fnptr:
                    expected[f"{i.name}_{d.name}"] = d
    problems = []
    for name, d in expected.items():
        r = ReturnType(d)
        want = [gen.m.abi_shape(r, name)] + [gen.m.abi_shape(p, name) for p in d.params]
        got = protos.get(name)
        refs = by_ref.get(name)
        if got is None:
            problems.append(f"{name}: no prototype from gfortran (not declared bind(c) in the module?)")
            continue
        if refs is None or len(refs) != len(got) - 1:
            problems.append(f"{name}: its call is not in the -fdump-tree-original dump")
            continue
        # The level of each argument: the C type's own (1 for type(c_ptr))
        # plus 1 when passed by reference.
        shapes = [got[0]]
        for (level, cls), ref in zip(got[1:], refs):
            own = 1 if cls == "void" else 0
            if cls != "void" and level != int(ref):
                problems.append(f"{name}: gfortran's prototype and call disagree ({level}, {ref})")
            shapes.append((own + int(ref), cls))
        if len(shapes) != len(want) or not all(shapes_match(w, g) for w, g in zip(want, shapes)):
            problems.append(f"{name}: (result, arguments) as (pointer levels, class): "
                            f"the header has {want}, the module {shapes}")
    return problems, len(expected)


# --------------------------------------------------------------------------

def generate(header_path):
    items = pxd.Parser(pxd.lex(header_path.read_text(encoding="utf-8"))).parse()
    gen = Generator(items)
    return gen, gen.render()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true",
                    help="exit 1 when the output file differs from what would be generated")
    ap.add_argument("--header", type=pathlib.Path, default=HEADER,
                    help="the C header (default: %(default)s)")
    ap.add_argument("-o", "--output", type=pathlib.Path, default=OUTPUT,
                    help="the module to write or check (default: %(default)s)")
    ap.add_argument("--abi-check", type=pathlib.Path, metavar="DIR",
                    help="write the check programs abi_check.c, abi_check.f90 and abi_calls.f90 into DIR")
    ap.add_argument("--check-abi", type=pathlib.Path, nargs=2, metavar=("PROTOS", "DUMP"),
                    help="compare the module with the header at the ABI level: PROTOS is "
                    "`gfortran -fc-prototypes` of the module, DUMP the -fdump-tree-original "
                    "of the abi_calls.f90 that --abi-check writes")
    args = ap.parse_args(argv)
    try:
        gen, text = generate(args.header)
    except HeaderError as e:
        print(f"gen-fortran: {args.header}: {e}", file=sys.stderr)
        print("gen-fortran: this construct is not understood; teach scripts/gen-pxd.py "
              "(whose parser this script uses) about it", file=sys.stderr)
        return 2
    except FortranError as e:
        print(f"gen-fortran: {args.header}: {e}", file=sys.stderr)
        print("gen-fortran: this cannot be expressed in Fortran as the generator stands; "
              "teach scripts/gen-fortran.py about it", file=sys.stderr)
        return 2
    for w in gen.warnings:
        print(f"gen-fortran: warning: {w}", file=sys.stderr)
    shown = args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output
    if args.abi_check:
        args.abi_check.mkdir(parents=True, exist_ok=True)
        ctext, ftext = render_abi_check(gen)
        (args.abi_check / "abi_check.c").write_text(ctext, encoding="utf-8")
        (args.abi_check / "abi_check.f90").write_text(ftext, encoding="utf-8")
        (args.abi_check / "abi_calls.f90").write_text(render_calls(gen), encoding="utf-8")
        print(f"wrote abi_check.c, abi_check.f90 and abi_calls.f90 in {args.abi_check}")
        return 0
    if args.check_abi:
        protos, dump = (f.read_text(encoding="utf-8") for f in args.check_abi)
        problems, n = check_abi(gen, protos, dump)
        for p in problems:
            print(f"gen-fortran: {p}", file=sys.stderr)
        if problems:
            print(f"gen-fortran: {len(problems)} of {n} functions and callbacks differ from "
                  f"{args.header.name} at the ABI level", file=sys.stderr)
            return 1
        print(f"{n} functions and callbacks of the module match {args.header.name} at the ABI level")
        return 0
    if args.check:
        old = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if old == text:
            print(f"{shown} is up to date")
            return 0
        diff = difflib.unified_diff(old.splitlines(True), text.splitlines(True),
                                    f"{shown} (committed)", f"{shown} (generated)")
        sys.stderr.writelines(diff)
        print(f"{shown} is out of date with {args.header.name}: "
              "run 'python3 scripts/gen-fortran.py' and commit it", file=sys.stderr)
        return 1
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    items = gen.items
    print(f"wrote {shown}: {sum(i.kind == 'function' for i in items)} functions, "
          f"{sum(i.kind == 'struct' for i in items)} structs, "
          f"{sum(i.kind == 'const' for i in items) + sum(len(i.members) for i in items if i.kind == 'enum')} "
          "constants and enum values")
    return 0


if __name__ == "__main__":
    sys.exit(main())
