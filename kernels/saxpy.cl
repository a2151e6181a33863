// saxpy: y[i] = a * x[i] + y[i], one work-item per element; launch 1-D with
// the global size equal to the array length (no bounds check). Used by the
// Fortran example (examples-fortran/saxpy.f90).

__kernel void saxpy(float a, __global const float* x, __global float* y)
{
    size_t i = get_global_id(0);
    y[i] = a * x[i] + y[i];
}
