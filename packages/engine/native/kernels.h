// CPU kernel table. Every kernel works on a row range [r0, r1) so the caller can split rows across threads.
// A CUDA backend would implement the same operations (see backend.h) with device pointers instead.
#pragma once
#include <cstddef>
#include <cstdint>

namespace harmonia {

// Y[t*ldy + r] = sum_k W[r*K + k] * X[t*ldx + k] for r in [r0, r1), t in [0, T). W is bf16, row-major.
using MatmulBf16Fn = void (*)(const uint16_t* W, size_t K, const float* X, size_t ldx, int T, float* Y,
                              size_t ldy, int r0, int r1);

// MXFP4 rows: blocks [rows][K/32][16] (low nibble = even element), scales [rows][K/32] (E8M0).
// X must be in "split" order (see split_mxfp4_input): per 32-element block, the 16 even then the 16 odd
// elements, so a block's low nibbles and high nibbles each meet a contiguous run of activations.
using MatmulMxfp4Fn = void (*)(const uint8_t* blocks, const uint8_t* scales, size_t K, const float* X,
                               size_t ldx, int T, float* Y, size_t ldy, int r0, int r1);

// Same products with bf16 activations in natural order (X is uint16 bf16, row stride ldx elements).
// Used only for multi-token prefill when EngineOptions.prefill is 'bf16' and the CPU has AVX512_BF16.
using MatmulBf16xFn = void (*)(const uint16_t* W, size_t K, const uint16_t* X, size_t ldx, int T, float* Y,
                               size_t ldy, int r0, int r1);
using MatmulMxfp4xFn = void (*)(const uint8_t* blocks, const uint8_t* scales, size_t K, const uint16_t* X,
                                size_t ldx, int T, float* Y, size_t ldy, int r0, int r1);

struct KernelSet {
  const char* name;
  MatmulBf16Fn matmul_bf16;
  MatmulMxfp4Fn matmul_mxfp4;
};

struct Bf16ActKernels {
  MatmulBf16xFn matmul_bf16;
  MatmulMxfp4xFn matmul_mxfp4;
};

// Null when the CPU lacks AVX512_BF16.
const Bf16ActKernels* select_bf16_act_kernels();

// fp32 -> bf16 (round to nearest even), n elements.
void to_bf16(const float* x, uint16_t* out, size_t n);

// Picks the best kernel set this CPU supports; `force` ("avx512", "avx2", "generic" or null) overrides.
const KernelSet& select_kernels(const char* force);

// Reorders each 32-element block of x (length K) into [even 16 | odd 16].
void split_mxfp4_input(const float* x, float* out, size_t K);

// 2^(s-127) for every E8M0 byte.
extern float kE8M0[256];
extern const float kFp4Values[16];

inline float bf16_to_f32(uint16_t v) {
  uint32_t bits = static_cast<uint32_t>(v) << 16;
  float f;
  __builtin_memcpy(&f, &bits, 4);
  return f;
}

}  // namespace harmonia
