// DELIBERATELY BROKEN: this file must fail to compile. It exists to test
// that build failures through the OpenCL C source path report a build log
// (which should mention `undeclared_identifier`). scripts/build-kernels.sh
// skips it; never compile it to SPIR-V.

__kernel void bad(__global int* out)
{
    out[get_global_id(0)] = undeclared_identifier;
}
