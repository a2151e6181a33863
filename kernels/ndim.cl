// Multi-dimensional index kernels: each work-item writes an encoding of its
// own global id, so the host can see which launch dimension maps to
// get_global_id(0). See README.md for the mapping observed with SYCL ranges.

// x = get_global_id(0), y = get_global_id(1); out has width*height elements.
__kernel void ids_2d(__global uint* out, uint width)
{
    uint x = (uint)get_global_id(0);
    uint y = (uint)get_global_id(1);
    out[y * width + x] = y * 1000u + x;
}

// x = get_global_id(0), y = get_global_id(1), z = get_global_id(2);
// out has nx*ny*nz elements.
__kernel void ids_3d(__global uint* out, uint nx, uint ny)
{
    uint x = (uint)get_global_id(0);
    uint y = (uint)get_global_id(1);
    uint z = (uint)get_global_id(2);
    out[(z * ny + y) * nx + x] = z * 1000000u + y * 1000u + x;
}
