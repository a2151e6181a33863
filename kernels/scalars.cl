// One argument of each scalar kind plus a vector, to test argument passing.
// out needs 7 elements: c, s, i, l, (long)f, (long)d, v.x+v.y+v.z+v.w.
// Run as a single work-item (global size 1).

__kernel void scalars(__global long* out, char c, short s, int i, long l,
                      float f, double d, int4 v)
{
    out[0] = c;
    out[1] = s;
    out[2] = i;
    out[3] = l;
    out[4] = (long)f;
    out[5] = (long)d;
    out[6] = (long)v.x + v.y + v.z + v.w;
}
