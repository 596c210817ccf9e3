// CPU kernel table. Every kernel works on a row range [r0, r1) so the caller can split rows across threads.
// A CUDA backend would implement the same operations (see backend.h) with device pointers instead.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

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

// int8 activations (prefill 'int8'), quantized per 32-element block as llama.cpp does for MXFP4 on the CPU
// (scale = max|x| / 127, round to nearest). quantize_q8 turns T rows of X (split order, like matmul_mxfp4's
// input, row stride K) into the kernel set's own packed form, q8_bytes(T, K) bytes; matmul_mxfp4_q8 then
// computes Y = W * dequant(Q) with exact int32 block dot products and one fp32 multiply-add per block.
inline size_t q8_bytes(int T, size_t K) { return static_cast<size_t>(T) * (K + K / 32 * 8); }
using QuantizeQ8Fn = void (*)(const float* X, int T, size_t K, uint8_t* out);
using MatmulMxfp4Q8Fn = void (*)(const uint8_t* blocks, const uint8_t* scales, size_t K, const uint8_t* Xq, int T,
                                 float* Y, size_t ldy, int r0, int r1);

// bf16 dense weights quantized once at load for the int8 prefill path (Q8_0-style: per row and 32-element
// block, scale max|w|/127), laid out per 16-row group as wt [K/32][8][16 rows][4] (q + 128, unsigned) and
// ws [K/32][16] block scales, so the VNNI kernel reads them without any per-call expansion.
struct Q8Dense {
  std::vector<uint8_t> wt;
  std::vector<float> ws;
  int rows = 0;
  size_t K = 0;
};
void build_q8_dense(const uint16_t* W, int rows, size_t K, Q8Dense& out);
// Y = W * dequant(Xq) for rows [r0, r1) (r0 a multiple of 16); Xq from quantize_q8 over natural-order rows.
using MatmulQ8DenseFn = void (*)(const Q8Dense& W, const uint8_t* Xq, int T, float* Y, size_t ldy, int r0, int r1);

// out[i] = sum_k W[i*K + k] * x[k] for i in [0, n): small fp32 matrices (router).
using DotRowsF32Fn = void (*)(const float* W, size_t K, const float* x, int n, float* out);

// One query position, one KV head: softmax(q_m . k_j * scale, with sink logit sinks[m]) . v_j for the qpk
// query heads m that share it. q: [qpk][hd]; K, V rows j in [0, n) at stride ldkv; out: [qpk][hd].
using AttendFn = void (*)(const float* q, int qpk, int hd, const float* K, const float* V, size_t ldkv, int n,
                          const float* sinks, float scale, float* out);

// Clamped SwiGLU over interleaved rows: out[i] = g * sigmoid(alpha * g) * (u + 1) with g = min(h[2i] + b[2i],
// limit), u = clamp(h[2i+1] + b[2i+1], -limit, limit).
using SwigluFn = void (*)(const float* h, const float* b, int I, float limit, float alpha, float* out);

struct KernelSet {
  const char* name;
  MatmulBf16Fn matmul_bf16;
  MatmulMxfp4Fn matmul_mxfp4;
  QuantizeQ8Fn quantize_q8;
  MatmulMxfp4Q8Fn matmul_mxfp4_q8;
  DotRowsF32Fn dot_rows_f32;
  AttendFn attend;
  MatmulQ8DenseFn matmul_q8_dense;
  SwigluFn swiglu;
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
