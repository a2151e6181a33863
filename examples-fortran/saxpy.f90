! saxpy: y = a*x + y on a device with dpcore, from Fortran.
!
!     saxpy [FILTER [SPIRV]]
!
! FILTER is a device filter string (e.g. opencl:cpu, level_zero:gpu:0; see
! dpc_device_select); without it, or with '' or 'default', the default device
! is used. SPIRV is the SPIR-V module holding the saxpy kernel; without it
! $DPCORE_ROOT/kernels/saxpy.spv (DPCORE_ROOT is set by scripts/env.sh), or
! kernels/saxpy.spv from the current directory when DPCORE_ROOT is not set.
!
! Every dpcore call is checked with dpc_f_check, which prints the status name
! and dpcore's message and stops with exit status 1 on failure. Build and run
! with examples-fortran/build.sh --run.
program saxpy
  use dpcore
  use, intrinsic :: iso_fortran_env, only: error_unit
  implicit none

  integer, parameter :: n = 65536
  ! x and y hold small integers and a is 2.5, so every a*x + y is exact in
  ! single precision: the device result must equal the host one bit for bit,
  ! fused multiply-add or not.
  real(c_float), parameter :: alpha = 2.5_c_float

  real(c_float), allocatable, target :: x(:), y(:), y_dev(:)
  real(c_float), target :: a                       ! the kernel's scalar argument
  integer(c_size_t) :: nbytes, global(1)
  type(c_ptr) :: dev, queue, ctx, bundle, kernel   ! dpcore handles
  type(c_ptr) :: d_x, d_y                          ! device USM
  type(dpc_kernel_arg) :: args(3)
  character(len=:), allocatable :: filter, spirv
  integer :: i

  call parse_arguments(filter, spirv)

  ! The device, its canonical (in-order) queue and the queue's context.
  if (filter == '' .or. filter == 'default') then
    call dpc_f_check(dpc_device_default(dev), 'dpc_device_default')
  else
    call dpc_f_check(dpc_device_select(dpc_f_c_string(filter), dev), &
      'dpc_device_select("' // filter // '")')
  end if
  call dpc_f_check(dpc_queue_default(dev, queue), 'dpc_queue_default')
  call dpc_f_check(dpc_queue_get_context(queue, ctx), 'dpc_queue_get_context')

  ! Host data and the expected result.
  allocate (x(n), y(n), y_dev(n))
  do i = 1, n
    x(i) = real(i, c_float)
    y(i) = real(n - i, c_float)
  end do
  y_dev = -1.0_c_float

  ! Device memory, filled from the host (dpc_f_usm_memcpy: dpc_usm_memcpy
  ! without dependencies or an event).
  nbytes = int(n, c_size_t) * c_sizeof(a)
  call dpc_f_check(dpc_usm_alloc(queue, DPC_USM_DEVICE, nbytes, 0_c_size_t, d_x), 'dpc_usm_alloc(x)')
  call dpc_f_check(dpc_usm_alloc(queue, DPC_USM_DEVICE, nbytes, 0_c_size_t, d_y), 'dpc_usm_alloc(y)')
  call dpc_f_check(dpc_f_usm_memcpy(queue, d_x, c_loc(x), nbytes), 'dpc_usm_memcpy(x to device)')
  call dpc_f_check(dpc_f_usm_memcpy(queue, d_y, c_loc(y), nbytes), 'dpc_usm_memcpy(y to device)')

  ! The kernel: saxpy(float a, global const float *x, global float *y).
  call dpc_f_check(dpc_bundle_create_from_spirv_file(ctx, dev, dpc_f_c_string(spirv), &
    dpc_f_c_string(''), bundle), 'dpc_bundle_create_from_spirv_file("' // spirv // '")')
  call dpc_f_check(dpc_bundle_get_kernel(bundle, dpc_f_c_string('saxpy'), kernel), &
    'dpc_bundle_get_kernel("saxpy")')

  ! Arguments: the scalar by the address of its bytes, the buffers as USM
  ! pointers. One work-item per element.
  a = alpha
  args(1) = dpc_kernel_arg(DPC_ARG_SCALAR, c_sizeof(a), c_loc(a))
  args(2) = dpc_kernel_arg(DPC_ARG_POINTER, 0_c_size_t, d_x)
  args(3) = dpc_kernel_arg(DPC_ARG_POINTER, 0_c_size_t, d_y)
  global(1) = int(n, c_size_t)
  call dpc_f_check(dpc_f_kernel_launch(queue, kernel, 1_c_int32_t, global, c_null_ptr, args, &
    size(args, kind=c_size_t)), 'dpc_kernel_launch')
  call dpc_f_check(dpc_queue_wait(queue), 'dpc_queue_wait')

  ! The result back, with the full dpc_usm_memcpy (no events, no event out).
  call dpc_f_check(dpc_usm_memcpy(queue, c_loc(y_dev), d_y, nbytes, c_null_ptr, 0_c_size_t, &
    c_null_ptr), 'dpc_usm_memcpy(y to host)')
  call dpc_f_check(dpc_queue_wait(queue), 'dpc_queue_wait')

  ! Check every element against the host computation.
  do i = 1, n
    if (y_dev(i) /= alpha * x(i) + y(i)) then
      write (error_unit, '(a, i0, a, g0, a, g0)') 'saxpy: y(', i, ') = ', y_dev(i), &
        ', expected ', alpha * x(i) + y(i)
      flush (error_unit)
      error stop 1
    end if
  end do

  write (*, '(a, a)') 'device: ', dpc_f_device_name(dev)
  write (*, '(a, i0, a)') 'saxpy on ', n, ' floats: ok'

  ! Free the memory and release the handles. The canonical queue and a
  ! platform default context are immortal (releasing them does nothing) but
  ! releasing what dpc_queue_default / dpc_queue_get_context gave is always
  ! right; root devices need no release.
  call dpc_f_check(dpc_usm_free(d_x), 'dpc_usm_free(x)')
  call dpc_f_check(dpc_usm_free(d_y), 'dpc_usm_free(y)')
  call dpc_f_check(dpc_kernel_release(kernel), 'dpc_kernel_release')
  call dpc_f_check(dpc_bundle_release(bundle), 'dpc_bundle_release')
  call dpc_f_check(dpc_context_release(ctx), 'dpc_context_release')
  call dpc_f_check(dpc_queue_release(queue), 'dpc_queue_release')
  deallocate (x, y, y_dev)

contains

  ! FILTER and SPIRV from the command line, with their defaults.
  subroutine parse_arguments(filter, spirv)
    character(len=:), allocatable, intent(out) :: filter, spirv
    character(len=:), allocatable :: root
    if (command_argument_count() > 2) then
      write (error_unit, '(a)') 'usage: saxpy [FILTER [SPIRV]]'
      flush (error_unit)
      error stop 2
    end if
    filter = argument(1)
    spirv = argument(2)
    if (spirv == '') then
      root = environment('DPCORE_ROOT')
      if (root == '') then
        spirv = 'kernels/saxpy.spv'
      else
        spirv = root // '/kernels/saxpy.spv'
      end if
    end if
  end subroutine parse_arguments

  ! Command-line argument i ('' when absent).
  function argument(i) result(s)
    integer, intent(in) :: i
    character(len=:), allocatable :: s
    integer :: length
    length = 0
    if (i <= command_argument_count()) call get_command_argument(i, length=length)
    allocate (character(len=length) :: s)
    if (length > 0) call get_command_argument(i, s)
  end function argument

  ! Environment variable name ('' when not set).
  function environment(name) result(s)
    character(len=*), intent(in) :: name
    character(len=:), allocatable :: s
    integer :: length, status
    call get_environment_variable(name, length=length, status=status)
    if (status /= 0) length = 0
    allocate (character(len=length) :: s)
    if (length > 0) call get_environment_variable(name, s)
  end function environment

end program saxpy
