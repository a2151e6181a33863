// Element-wise c[i] = a[i] + k * b[i] for four element types, plus two
// empty kernels for launch-overhead benchmarks. One work-item per element;
// launch with a 1-D global size equal to the array length.

__kernel void vadd_i32(__global const int* a, __global const int* b,
                       __global int* c, int k)
{
    size_t i = get_global_id(0);
    c[i] = a[i] + k * b[i];
}

__kernel void vadd_i64(__global const long* a, __global const long* b,
                       __global long* c, long k)
{
    size_t i = get_global_id(0);
    c[i] = a[i] + k * b[i];
}

__kernel void vadd_f32(__global const float* a, __global const float* b,
                       __global float* c, float k)
{
    size_t i = get_global_id(0);
    c[i] = a[i] + k * b[i];
}

__kernel void vadd_f64(__global const double* a, __global const double* b,
                       __global double* c, double k)
{
    size_t i = get_global_id(0);
    c[i] = a[i] + k * b[i];
}

// No arguments, no work: measures the bare cost of a launch.
__kernel void noop(void)
{
}

// One pointer argument, no work: measures launch cost with argument setting.
__kernel void noop_ptr(__global int* p)
{
}
