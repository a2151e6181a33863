// Work-group tree reduction. Launch over an nd-range (global size a
// multiple of the local size; the local size a power of two) with a
// local-memory argument of local_size floats. Each work-group writes the
// sum of its slice of `in` to partial[get_group_id(0)]; elements at index
// >= n count as 0, so the global size may exceed n.

__kernel void reduce_sum_f32(__global const float* in, __global float* partial,
                             __local float* scratch, uint n)
{
    size_t gid = get_global_id(0);
    size_t lid = get_local_id(0);
    size_t lsz = get_local_size(0);

    scratch[lid] = (gid < n) ? in[gid] : 0.0f;
    barrier(CLK_LOCAL_MEM_FENCE);

    for (size_t s = lsz / 2; s > 0; s >>= 1) {
        if (lid < s)
            scratch[lid] += scratch[lid + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }

    if (lid == 0)
        partial[get_group_id(0)] = scratch[0];
}
