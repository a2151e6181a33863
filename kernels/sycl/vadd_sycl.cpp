// SYCL-source kernel for the runtime kernel compiler
// (sycl_ext_oneapi_kernel_compiler, source_language::sycl). This file is the
// *source text* handed to create_kernel_bundle_from_source at run time; it is
// not compiled by the host toolchain and has no main().
//
// vadd_sycl: c[i] = a[i] + b[i] over int arrays, one work-item per element.
// A free-function kernel with the nd_range_kernel<1> property; extern "C"
// keeps the name unmangled, so the bundle exposes it as "vadd_sycl"
// (kb.ext_oneapi_get_kernel("vadd_sycl")). Launch it with a 1-D nd_range
// (an nd_range<1> whose global size is the element count, or a range<1>).

#include <sycl/sycl.hpp>

namespace syclexp = sycl::ext::oneapi::experimental;

extern "C" SYCL_EXT_ONEAPI_FUNCTION_PROPERTY((syclexp::nd_range_kernel<1>))
void vadd_sycl(const int* a, const int* b, int* c)
{
    size_t i = sycl::ext::oneapi::this_work_item::get_nd_item<1>().get_global_id(0);
    c[i] = a[i] + b[i];
}
