#!/usr/bin/env bash
# The Fortran layer: the generated module fortran/dpcore.f90 and the example
# examples-fortran/saxpy.f90.
#
#   bash tests/fortran/test_fortran.sh
#
#   - fortran/dpcore.f90 is what scripts/gen-fortran.py generates from
#     include/dpcore.h now (drift check);
#   - the generator fails loudly on a construct Fortran cannot express;
#   - the module compiles alone with gfortran -std=f2008 -Wall -Wextra -Werror;
#   - its constants and struct layouts equal the header's (a C and a Fortran
#     program print them; the outputs must be identical);
#   - every function and callback passes the same arguments as the header at
#     the ABI level (gfortran's own view: -fc-prototypes and the calls in
#     -fdump-tree-original, compared by gen-fortran.py --check-abi);
#   - kernels/saxpy.spv is kernels/saxpy.cl compiled (clang-15 and
#     llvm-spirv-15 are required; tests/kernels.sh checks every kernel);
#   - the example builds, runs and prints "saxpy on N floats: ok", and fails
#     with dpcore's message on a bad device filter.
# Prints PASS/FAIL per check and "N passed, N failed"; exits 1 on
# any failure. Needs gfortran (Debian package: gfortran), gcc and a built
# target/release/libdpcore.so (make build); sources scripts/env.sh when
# DPCORE_ROOT is not set.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
if [[ -z ${DPCORE_ROOT:-} && -f scripts/env.sh ]]; then
  # shellcheck source=/dev/null
  . scripts/env.sh
fi

FC=${FC:-gfortran}
CC=${CC:-gcc}
PY=python3
rel="$root/target/release"
out="$root/target/fortran/test"
rm -rf "$out"
mkdir -p "$out"
passed=0 failed=0 failures=()

ok() { passed=$((passed + 1)); echo "PASS $1"; }
bad() {
  failed=$((failed + 1)); failures+=("$1"); echo "FAIL $1"
  if [[ -n ${2:-} && -s $2 ]]; then sed 's/^/    /' "$2" | head -40; fi
}

if ! command -v "$FC" >/dev/null 2>&1; then
  bad "$FC is installed (Debian package: gfortran)"
  echo "0 passed, 1 failed"; exit 1
fi

# 1. Drift: the committed module is what the generator makes from the header.
if $PY scripts/gen-fortran.py --check >"$out/check.log" 2>&1; then
  ok "fortran/dpcore.f90 is up to date with include/dpcore.h (gen-fortran --check)"
else bad "fortran/dpcore.f90 is up to date with include/dpcore.h (gen-fortran --check)" "$out/check.log"; fi

# 2. Loud failure: a variadic function cannot be declared in Fortran 2008.
sed 's/^dpc_status dpc_queue_wait(dpc_queue queue);$/dpc_status dpc_queue_wait(dpc_queue queue, ...);/' \
  include/dpcore.h >"$out/variadic.h"
if grep -q 'dpc_queue_wait(dpc_queue queue, \.\.\.)' "$out/variadic.h"; then
  $PY scripts/gen-fortran.py --header "$out/variadic.h" -o "$out/variadic.f90" >"$out/variadic.log" 2>&1
  rc=$?
  if [[ $rc == 2 ]] && grep -q "variadic" "$out/variadic.log" && [[ ! -e $out/variadic.f90 ]]; then
    ok "gen-fortran refuses a construct Fortran cannot express (variadic function, exit 2)"
  else bad "gen-fortran refuses a construct Fortran cannot express (variadic function; exit $rc)" "$out/variadic.log"; fi
else
  bad "gen-fortran refuses a construct Fortran cannot express (could not make the test header)"
fi

# 3. The module alone, strict Fortran 2008.
mkdir -p "$out/alone"
if "$FC" -std=f2008 -Wall -Wextra -Werror -J "$out/alone" -c fortran/dpcore.f90 \
     -o "$out/alone/dpcore.o" >"$out/alone.log" 2>&1; then
  ok "fortran/dpcore.f90 compiles alone with $FC -std=f2008 -Wall -Wextra -Werror"
else bad "fortran/dpcore.f90 compiles alone with $FC -std=f2008 -Wall -Wextra -Werror" "$out/alone.log"; fi

# 4. Constants and struct layouts: C and Fortran print the same.
abi="$out/abi"
if $PY scripts/gen-fortran.py --abi-check "$abi" >"$out/abi-gen.log" 2>&1 \
   && "$CC" -std=c11 -Wall -Werror -Iinclude "$abi/abi_check.c" -o "$abi/abi_c" >"$out/abi.log" 2>&1 \
   && "$FC" -std=f2008 -Wall -Werror -I "$out/alone" "$abi/abi_check.f90" "$out/alone/dpcore.o" \
        -L"$rel" -ldpcore -Wl,-rpath,"$rel" -o "$abi/abi_f" >>"$out/abi.log" 2>&1 \
   && "$abi/abi_c" >"$abi/c.txt" && "$abi/abi_f" >"$abi/f.txt"; then
  if diff -u "$abi/c.txt" "$abi/f.txt" >"$out/abi-diff.log"; then
    ok "constants, enum values and struct layouts match dpcore.h ($(wc -l <"$abi/c.txt") values compared)"
  else bad "constants, enum values and struct layouts match dpcore.h" "$out/abi-diff.log"; fi
else
  cat "$out/abi-gen.log" >>"$out/abi.log"
  bad "constants, enum values and struct layouts match dpcore.h (the check programs did not build)" "$out/abi.log"
fi

# 5. Functions and callbacks at the ABI level, as gfortran sees the module.
if (cd "$abi" && "$FC" -fc-prototypes -fsyntax-only -J . "$root/fortran/dpcore.f90" >protos.h \
      && "$FC" -std=f2008 -I "$out/alone" -fdump-tree-original -c abi_calls.f90 -o abi_calls.o) \
      >"$out/protos.log" 2>&1; then
  dump=$(ls "$abi"/abi_calls.f90.*.original 2>/dev/null | head -1)
  if [[ -n $dump ]] && $PY scripts/gen-fortran.py --check-abi "$abi/protos.h" "$dump" >>"$out/protos.log" 2>&1; then
    ok "every function and callback matches dpcore.h at the ABI level ($(tail -1 "$out/protos.log" | cut -d' ' -f1) checked)"
  else bad "every function and callback matches dpcore.h at the ABI level" "$out/protos.log"; fi
else bad "every function and callback matches dpcore.h at the ABI level (gfortran failed)" "$out/protos.log"; fi

# 6. The committed SPIR-V is its OpenCL C source compiled.
if command -v clang-15 >/dev/null 2>&1 && command -v llvm-spirv-15 >/dev/null 2>&1; then
  if clang-15 -cl-std=CL2.0 -target spir64 -emit-llvm -c kernels/saxpy.cl -o "$out/saxpy.bc" >"$out/spv.log" 2>&1 \
     && llvm-spirv-15 "$out/saxpy.bc" -o "$out/saxpy.spv" >>"$out/spv.log" 2>&1 \
     && cmp kernels/saxpy.spv "$out/saxpy.spv" >>"$out/spv.log" 2>&1; then
    ok "kernels/saxpy.spv is kernels/saxpy.cl compiled"
  else bad "kernels/saxpy.spv is kernels/saxpy.cl compiled (run scripts/build-kernels.sh)" "$out/spv.log"; fi
else bad "kernels/saxpy.spv is kernels/saxpy.cl compiled (clang-15 or llvm-spirv-15 is missing: scripts/setup.sh installs both)"; fi

# 7. The helpers and the argument conventions at run time: outputs of every
#    kind by reference, arrays, an optional event_out through c_loc, a
#    callback through c_funloc, the string helpers, failures with status.
cat >"$out/smoke.f90" <<'EOF_F90'
module smoke_logger
  use dpcore
  implicit none
contains
  ! A dpc_logger_fn: counts the lines mentioning DPC_ERROR_INVALID_HANDLE.
  subroutine count_lines(level, message, user_data) bind(c)
    integer(c_int32_t), value :: level
    character(kind=c_char), dimension(*), intent(in) :: message
    type(c_ptr), value :: user_data
    integer(c_int), pointer :: counter
    character(len=200) :: line
    integer :: i
    line = ''
    do i = 1, len(line)
      if (message(i) == c_null_char) exit
      line(i:i) = message(i)
    end do
    call c_f_pointer(user_data, counter)
    if (level == DPC_LOG_DEBUG .and. index(line, 'DPC_ERROR_INVALID_HANDLE') > 0) counter = counter + 1
  end subroutine count_lines
end module smoke_logger

program smoke
  use dpcore
  use smoke_logger
  implicit none
  procedure(dpc_logger_fn), pointer :: logger_check => count_lines  ! the interface matches
  type(c_ptr) :: dev, q, ctx, p
  type(c_ptr), target :: ev
  integer(c_size_t) :: n, sizes(3)
  integer(c_int64_t) :: units
  integer(c_int32_t) :: st, backend, kind
  logical(c_bool) :: has, same
  integer(c_int), target :: lines
  integer(c_int8_t), target :: bytes(16)
  integer(c_int8_t) :: ff
  character(len=:), allocatable :: s
  character(kind=c_char) :: cs(3)
  integer :: failures
  failures = 0

  cs = dpc_f_c_string('ab')
  call expect(cs(3) == c_null_char .and. cs(1) == 'a', 'dpc_f_c_string')
  call expect(dpc_f_status_name(DPC_ERROR_INVALID_HANDLE) == 'DPC_ERROR_INVALID_HANDLE', 'dpc_f_status_name')
  call expect(dpc_f_string(c_null_ptr) == '', 'dpc_f_string(c_null_ptr)')
  s = dpc_f_version_string()
  call expect(len(s) > 0 .and. dpc_version() == DPC_VERSION_MAJOR * 65536 + DPC_VERSION_MINOR * 256 &
    + DPC_VERSION_PATCH, 'dpc_f_version_string / dpc_version ' // s)
  call expect(index(dpc_f_diagnostics(st), 'dpcore') > 0 .and. st == DPC_SUCCESS, 'dpc_f_diagnostics')

  call dpc_f_check(dpc_device_count(n), 'dpc_device_count')                     ! size_t *
  call expect(n > 0, 'dpc_device_count > 0')
  call dpc_f_check(dpc_device_default(dev), 'dpc_device_default')              ! dpc_device *
  call dpc_f_check(dpc_device_get_backend(dev, backend), 'dpc_device_get_backend')  ! enum *
  call expect(backend /= DPC_BACKEND_UNKNOWN, 'dpc_device_get_backend')
  call dpc_f_check(dpc_device_has_aspect(dev, DPC_ASPECT_USM_DEVICE_ALLOCATIONS, has), 'has_aspect')  ! bool *
  call expect(logical(has), 'dpc_device_has_aspect(USM device allocations)')
  call dpc_f_check(dpc_device_get_info_u64(dev, DPC_DEVICE_INFO_MAX_COMPUTE_UNITS, units), 'info_u64')  ! uint64_t *
  call expect(units > 0, 'DPC_DEVICE_INFO_MAX_COMPUTE_UNITS > 0')
  call dpc_f_check(dpc_device_get_max_work_item_sizes(dev, sizes), 'max_work_item_sizes')  ! uint64_t[3]
  call expect(sizes(1) > 0, 'dpc_device_get_max_work_item_sizes')
  call dpc_f_check(dpc_device_equal(dev, dev, same), 'dpc_device_equal')
  call expect(logical(same), 'dpc_device_equal(dev, dev)')
  s = dpc_f_device_info_string(dev, DPC_DEVICE_INFO_FILTER_STRING, st)
  call expect(st == DPC_SUCCESS .and. index(s, ':') > 0, 'dpc_f_device_info_string(FILTER_STRING) ' // s)
  s = dpc_f_device_info_string(dev, DPC_DEVICE_INFO_MAX_COMPUTE_UNITS, st)     ! a numeric key: refused
  call expect(st == DPC_ERROR_INVALID_ARGUMENT .and. len(dpc_f_last_error_message()) > 0, &
    'dpc_f_device_info_string failure with status')

  ! A NULL handle, and the logger seeing the error at debug level.
  lines = 0
  call dpc_f_check(dpc_set_logger(c_funloc(count_lines), c_loc(lines), DPC_LOG_DEBUG), 'dpc_set_logger')
  st = dpc_queue_wait(c_null_ptr)
  call dpc_f_check(dpc_set_logger(c_null_funptr, c_null_ptr, DPC_LOG_ERROR), 'dpc_set_logger(NULL)')
  call expect(st == DPC_ERROR_INVALID_HANDLE .and. dpc_last_error_status() == DPC_ERROR_INVALID_HANDLE, &
    'dpc_queue_wait(c_null_ptr) is DPC_ERROR_INVALID_HANDLE')
  call expect(lines == 1, 'the logger callback saw the error')

  ! USM: memset through the twin, a copy back with an event.
  call dpc_f_check(dpc_queue_default(dev, q), 'dpc_queue_default')
  call dpc_f_check(dpc_usm_alloc(q, DPC_USM_DEVICE, 16_c_size_t, 0_c_size_t, p), 'dpc_usm_alloc')  ! void **
  call dpc_f_check(dpc_queue_get_context(q, ctx), 'dpc_queue_get_context')
  call dpc_f_check(dpc_usm_get_pointer_kind(ctx, p, kind), 'dpc_usm_get_pointer_kind')  ! enum *
  call expect(kind == DPC_USM_DEVICE, 'dpc_usm_get_pointer_kind is DPC_USM_DEVICE')
  ff = -1_c_int8_t  ! 0xff: uint8_t has no Fortran kind of its own
  call dpc_f_check(dpc_f_usm_memset(q, p, ff, 16_c_size_t), 'dpc_usm_memset')
  bytes = 0
  call dpc_f_check(dpc_usm_memcpy(q, c_loc(bytes), p, 16_c_size_t, c_null_ptr, 0_c_size_t, c_loc(ev)), &
    'dpc_usm_memcpy with event_out')
  call expect(c_associated(ev), 'event_out written')
  call dpc_f_check(dpc_event_wait(ev), 'dpc_event_wait')
  call dpc_f_check(dpc_event_release(ev), 'dpc_event_release')
  call expect(all(bytes == -1_c_int8_t), 'memset 0xff then copied back')
  call dpc_f_check(dpc_usm_free(p), 'dpc_usm_free')
  call dpc_f_check(dpc_context_release(ctx), 'dpc_context_release')

  if (failures > 0) error stop 1
  write (*, '(a)') 'smoke: ok'
contains
  subroutine expect(cond, what)
    logical, intent(in) :: cond
    character(len=*), intent(in) :: what
    if (.not. cond) then
      write (*, '(a)') 'not ok: ' // what
      failures = failures + 1
    end if
  end subroutine expect
end program smoke
EOF_F90
what="outputs by reference, arrays, event_out via c_loc, a logger via c_funloc and the string helpers work"
if "$FC" -std=f2008 -Wall -Werror -fcheck=all -I "$out/alone" "$out/smoke.f90" "$out/alone/dpcore.o" \
     -L"$rel" -ldpcore -Wl,-rpath,"$rel" -J "$out" -o "$out/smoke" >"$out/smoke.log" 2>&1 \
   && "$out/smoke" >>"$out/smoke.log" 2>&1 && grep -q '^smoke: ok$' "$out/smoke.log"; then
  ok "$what"
else bad "$what" "$out/smoke.log"; fi

# 8. The example: build, run, check its output.
if bash examples-fortran/build.sh >"$out/build.log" 2>&1; then
  ok "examples-fortran/build.sh builds the module and saxpy ($FC -std=f2008 -Wall -Werror -fcheck=all)"
  "$root/target/fortran/saxpy" >"$out/run.out" 2>"$out/run.err"
  rc=$?
  line=$(grep -E '^saxpy on [0-9]+ floats: ok$' "$out/run.out")
  if [[ $rc == 0 && -n $line ]] && grep -q '^device: .' "$out/run.out"; then
    ok "saxpy runs on $(sed -n 's/^device: //p' "$out/run.out") and prints \"$line\""
  else
    cat "$out/run.out" "$out/run.err" >"$out/run.log"
    bad "saxpy runs and prints \"saxpy on N floats: ok\" (exit $rc)" "$out/run.log"
  fi
  "$root/target/fortran/saxpy" nosuch:gpu >"$out/bad.out" 2>"$out/bad.err"
  rc=$?
  want='dpc_device_select("nosuch:gpu") failed: DPC_ERROR_INVALID_SELECTOR (100): invalid device filter'
  if [[ $rc != 0 ]] && grep -qF "$want" "$out/bad.err"; then
    ok "saxpy with a bad filter exits $rc with dpcore's status name and message"
  else
    cat "$out/bad.out" "$out/bad.err" >"$out/bad.log"
    bad "saxpy with a bad filter exits non-zero with dpcore's status name and message (exit $rc)" "$out/bad.log"
  fi
else
  bad "examples-fortran/build.sh builds the module and saxpy" "$out/build.log"
fi

echo "$passed passed, $failed failed"
if ((failed)); then
  printf '  failed: %s\n' "${failures[@]}"
  exit 1
fi
