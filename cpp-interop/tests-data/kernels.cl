// Test kernels of dpcore-sycl, compiled offline to kernels.spv (see README.md
// in this directory).

__kernel void vadd(__global const int *a, __global const int *b, __global int *c, int k) {
  size_t i = get_global_id(0);
  c[i] = a[i] + k * b[i];
}

// out[linear] = (get_global_id(0), get_global_id(1), get_global_id(2)), with
// linear = id0 + size0 * (id1 + size1 * id2).
__kernel void ids(__global uint *out) {
  size_t i0 = get_global_id(0), i1 = get_global_id(1), i2 = get_global_id(2);
  size_t n0 = get_global_size(0), n1 = get_global_size(1);
  size_t linear = i0 + n0 * (i1 + n1 * i2);
  out[3 * linear + 0] = (uint)i0;
  out[3 * linear + 1] = (uint)i1;
  out[3 * linear + 2] = (uint)i2;
}
