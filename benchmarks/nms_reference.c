/* Greedy NMS in C, the reference that the NMS benchmark measures the package against.

   The algorithm of torchvision's CPU kernel (torchvision/csrc/ops/cpu/nms_kernel.cpp): boxes
   already sorted by decreasing score; each box not yet suppressed is kept and suppresses every
   later box whose IoU with it is above the threshold. O(K) memory, O(K * kept) time, IoU
   computed on the fly in float. Built at benchmark time with the system C compiler. */
#include <stdint.h>

int64_t nms_sorted(const float *b, int64_t n, float threshold, uint8_t *suppressed, int64_t *keep) {
    int64_t kept = 0;
    for (int64_t i = 0; i < n; i++) {
        if (suppressed[i]) continue;
        keep[kept++] = i;
        const float ix1 = b[4 * i], iy1 = b[4 * i + 1], ix2 = b[4 * i + 2], iy2 = b[4 * i + 3];
        const float iarea = (ix2 - ix1) * (iy2 - iy1);
        for (int64_t j = i + 1; j < n; j++) {
            if (suppressed[j]) continue;
            const float *o = b + 4 * j;
            const float w = (ix2 < o[2] ? ix2 : o[2]) - (ix1 > o[0] ? ix1 : o[0]);
            const float h = (iy2 < o[3] ? iy2 : o[3]) - (iy1 > o[1] ? iy1 : o[1]);
            const float inter = (w > 0 ? w : 0) * (h > 0 ? h : 0);
            const float jarea = (o[2] - o[0]) * (o[3] - o[1]);
            if (inter / (iarea + jarea - inter) > threshold) suppressed[j] = 1;
        }
    }
    return kept;
}
