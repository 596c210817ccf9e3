// MXFP4 and bf16 matrix kernels: portable, AVX2+FMA and AVX-512 variants, chosen at run time.
// MXFP4 weights are never expanded in memory: each 16-byte block is decoded in registers (a 16-entry lookup
// table, one scale multiply per block) right before its multiply-adds.
#include "kernels.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

namespace harmonia {

const float kFp4Values[16] = {+0.0f, +0.5f, +1.0f, +1.5f, +2.0f, +3.0f, +4.0f, +6.0f,
                              -0.0f, -0.5f, -1.0f, -1.5f, -2.0f, -3.0f, -4.0f, -6.0f};
float kE8M0[256];

namespace {
struct E8M0Init {
  E8M0Init() {
    for (int s = 0; s < 256; s++) kE8M0[s] = std::ldexp(1.0f, s - 127);
  }
} e8m0_init;
}  // namespace

void split_mxfp4_input(const float* x, float* out, size_t K) {
  for (size_t b = 0; b < K; b += 32) {
    for (int j = 0; j < 16; j++) {
      out[b + j] = x[b + 2 * j];
      out[b + 16 + j] = x[b + 2 * j + 1];
    }
  }
}

// ---------------------------------------------------------------- portable
static void matmul_bf16_generic(const uint16_t* W, size_t K, const float* X, size_t ldx, int T, float* Y,
                                size_t ldy, int r0, int r1) {
  for (int r = r0; r < r1; r++) {
    const uint16_t* w = W + static_cast<size_t>(r) * K;
    for (int t = 0; t < T; t++) {
      const float* x = X + t * ldx;
      float acc = 0.f;
      for (size_t k = 0; k < K; k++) acc += bf16_to_f32(w[k]) * x[k];
      Y[t * ldy + r] = acc;
    }
  }
}

static void matmul_mxfp4_generic(const uint8_t* blocks, const uint8_t* scales, size_t K, const float* X,
                                 size_t ldx, int T, float* Y, size_t ldy, int r0, int r1) {
  const size_t nb = K / 32;
  for (int r = r0; r < r1; r++) {
    const uint8_t* blk = blocks + static_cast<size_t>(r) * nb * 16;
    const uint8_t* sc = scales + static_cast<size_t>(r) * nb;
    for (int t = 0; t < T; t++) {
      const float* x = X + t * ldx;
      float acc = 0.f;
      for (size_t b = 0; b < nb; b++) {
        float part = 0.f;
        for (int j = 0; j < 16; j++) {
          const uint8_t byte = blk[b * 16 + j];
          part += kFp4Values[byte & 15] * x[b * 32 + j] + kFp4Values[byte >> 4] * x[b * 32 + 16 + j];
        }
        acc += part * kE8M0[sc[b]];
      }
      Y[t * ldy + r] = acc;
    }
  }
}

// ---------------------------------------------------------------- AVX2 + FMA
#define AVX2_TARGET __attribute__((target("avx2,fma")))

AVX2_TARGET static inline float hsum256(__m256 v) {
  __m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
  lo = _mm_add_ps(lo, hi);
  lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
  lo = _mm_add_ss(lo, _mm_movehdup_ps(lo));
  return _mm_cvtss_f32(lo);
}

AVX2_TARGET static inline __m256 bf16x8(const uint16_t* p) {
  return _mm256_castsi256_ps(
      _mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))), 16));
}

template <int NT>
AVX2_TARGET static void bf16_rows_avx2(const uint16_t* W, size_t K, const float* X, size_t ldx, float* Y,
                                       size_t ldy, int r0, int r1) {
  for (int r = r0; r < r1; r++) {
    const uint16_t* w = W + static_cast<size_t>(r) * K;
    __m256 acc[NT], acc2[NT];
    for (int j = 0; j < NT; j++) acc[j] = acc2[j] = _mm256_setzero_ps();
    size_t k = 0;
    for (; k + 16 <= K; k += 16) {
      __m256 w0 = bf16x8(w + k), w1 = bf16x8(w + k + 8);
      for (int j = 0; j < NT; j++) {
        acc[j] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(X + j * ldx + k), acc[j]);
        acc2[j] = _mm256_fmadd_ps(w1, _mm256_loadu_ps(X + j * ldx + k + 8), acc2[j]);
      }
    }
    for (int j = 0; j < NT; j++) {
      float s = hsum256(_mm256_add_ps(acc[j], acc2[j]));
      for (size_t kk = k; kk < K; kk++) s += bf16_to_f32(w[kk]) * X[j * ldx + kk];
      Y[j * ldy + r] = s;
    }
  }
}

AVX2_TARGET static void matmul_bf16_avx2(const uint16_t* W, size_t K, const float* X, size_t ldx, int T,
                                         float* Y, size_t ldy, int r0, int r1) {
  int t = 0;
  for (; t + 4 <= T; t += 4) bf16_rows_avx2<4>(W, K, X + t * ldx, ldx, Y + t * ldy, ldy, r0, r1);
  for (; t < T; t++) bf16_rows_avx2<1>(W, K, X + t * ldx, ldx, Y + t * ldy, ldy, r0, r1);
}

template <int NT>
AVX2_TARGET static void mxfp4_rows_avx2(const uint8_t* blocks, const uint8_t* scales, size_t K, const float* X,
                                        size_t ldx, float* Y, size_t ldy, int r0, int r1) {
  const size_t nb = K / 32;
  const __m256 lut = _mm256_setr_ps(0.f, 0.5f, 1.f, 1.5f, 2.f, 3.f, 4.f, 6.f);
  const __m256i m7 = _mm256_set1_epi32(7), m8 = _mm256_set1_epi32(8);
  for (int r = r0; r < r1; r++) {
    const uint8_t* blk = blocks + static_cast<size_t>(r) * nb * 16;
    const uint8_t* sc = scales + static_cast<size_t>(r) * nb;
    __m256 acc[NT];
    for (int j = 0; j < NT; j++) acc[j] = _mm256_setzero_ps();
    for (size_t b = 0; b < nb; b++) {
      const __m256 s = _mm256_set1_ps(kE8M0[sc[b]]);
      for (int half = 0; half < 2; half++) {
        __m256i v = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(blk + b * 16 + half * 8)));
        __m256i lo = v, hi = _mm256_srli_epi32(v, 4);
        lo = _mm256_and_si256(lo, _mm256_set1_epi32(15));
        __m256 wl = _mm256_xor_ps(_mm256_permutevar8x32_ps(lut, _mm256_and_si256(lo, m7)),
                                  _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_and_si256(lo, m8), 28)));
        __m256 wh = _mm256_xor_ps(_mm256_permutevar8x32_ps(lut, _mm256_and_si256(hi, m7)),
                                  _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_and_si256(hi, m8), 28)));
        wl = _mm256_mul_ps(wl, s);
        wh = _mm256_mul_ps(wh, s);
        const float* xb = X + b * 32 + half * 8;
        for (int j = 0; j < NT; j++) {
          acc[j] = _mm256_fmadd_ps(wl, _mm256_loadu_ps(xb + j * ldx), acc[j]);
          acc[j] = _mm256_fmadd_ps(wh, _mm256_loadu_ps(xb + j * ldx + 16), acc[j]);
        }
      }
    }
    for (int j = 0; j < NT; j++) Y[j * ldy + r] = hsum256(acc[j]);
  }
}

AVX2_TARGET static void matmul_mxfp4_avx2(const uint8_t* blocks, const uint8_t* scales, size_t K, const float* X,
                                          size_t ldx, int T, float* Y, size_t ldy, int r0, int r1) {
  int t = 0;
  for (; t + 4 <= T; t += 4) mxfp4_rows_avx2<4>(blocks, scales, K, X + t * ldx, ldx, Y + t * ldy, ldy, r0, r1);
  for (; t < T; t++) mxfp4_rows_avx2<1>(blocks, scales, K, X + t * ldx, ldx, Y + t * ldy, ldy, r0, r1);
}

// ---------------------------------------------------------------- AVX-512
constexpr int kPrefetchAhead = 2048;
// From this many tokens on, the MXFP4 prefill kernel decodes weight rows once and reuses them (see below).
constexpr int kTiledMinTokens = 12;

// Splits T tokens into as few passes over the weights as possible (at most 8 tokens each, evenly sized), so
// the MXFP4 decode and weight loads are amortized over as many tokens as the registers allow.
template <typename F>
static inline void token_tiles(int T, F&& pass) {
  int t = 0;
  while (t < T) {
    const int passes = (T - t + 7) / 8;
    const int n = (T - t + passes - 1) / passes;
    pass(t, n);
    t += n;
  }
}
#define HARMONIA_DISPATCH_NT(KERNEL, n, ...) \
  switch (n) {                               \
    case 1: KERNEL<1>(__VA_ARGS__); break;   \
    case 2: KERNEL<2>(__VA_ARGS__); break;   \
    case 3: KERNEL<3>(__VA_ARGS__); break;   \
    case 4: KERNEL<4>(__VA_ARGS__); break;   \
    case 5: KERNEL<5>(__VA_ARGS__); break;   \
    case 6: KERNEL<6>(__VA_ARGS__); break;   \
    case 7: KERNEL<7>(__VA_ARGS__); break;   \
    default: KERNEL<8>(__VA_ARGS__); break;  \
  }
#define AVX512_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma")))

AVX512_TARGET static inline __m512 bf16x16(const uint16_t* p) {
  return _mm512_castsi512_ps(
      _mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))), 16));
}

template <int NT>
AVX512_TARGET static void bf16_rows_avx512(const uint16_t* W, size_t K, const float* X, size_t ldx, float* Y,
                                           size_t ldy, int r0, int r1) {
  for (int r = r0; r < r1; r++) {
    const uint16_t* w = W + static_cast<size_t>(r) * K;
    if (r + 1 < r1) {
      // The next row streams from DRAM; touching its start early keeps the prefetcher ahead of us.
      _mm_prefetch(reinterpret_cast<const char*>(w + K), _MM_HINT_T0);
    }
    __m512 acc[NT], acc2[NT];
    for (int j = 0; j < NT; j++) acc[j] = acc2[j] = _mm512_setzero_ps();
    size_t k = 0;
    for (; k + 32 <= K; k += 32) {
      _mm_prefetch(reinterpret_cast<const char*>(w + k) + kPrefetchAhead, _MM_HINT_T0);
      __m512 w0 = bf16x16(w + k), w1 = bf16x16(w + k + 16);
      for (int j = 0; j < NT; j++) {
        acc[j] = _mm512_fmadd_ps(w0, _mm512_loadu_ps(X + j * ldx + k), acc[j]);
        acc2[j] = _mm512_fmadd_ps(w1, _mm512_loadu_ps(X + j * ldx + k + 16), acc2[j]);
      }
    }
    for (; k + 16 <= K; k += 16) {
      __m512 w0 = bf16x16(w + k);
      for (int j = 0; j < NT; j++) acc[j] = _mm512_fmadd_ps(w0, _mm512_loadu_ps(X + j * ldx + k), acc[j]);
    }
    for (int j = 0; j < NT; j++) {
      float s = _mm512_reduce_add_ps(_mm512_add_ps(acc[j], acc2[j]));
      for (size_t kk = k; kk < K; kk++) s += bf16_to_f32(w[kk]) * X[j * ldx + kk];
      Y[j * ldy + r] = s;
    }
  }
}

// Prefill: two weight rows share every activation load (halves the loads per multiply-add).
template <int NT>
AVX512_TARGET static void bf16_rowpairs_avx512(const uint16_t* W, size_t K, const float* X, size_t ldx, float* Y,
                                               size_t ldy, int r0, int r1) {
  int r = r0;
  for (; r + 2 <= r1; r += 2) {
    const uint16_t* w0 = W + static_cast<size_t>(r) * K;
    const uint16_t* w1 = w0 + K;
    __m512 acc0[NT], acc1[NT];
    for (int j = 0; j < NT; j++) acc0[j] = acc1[j] = _mm512_setzero_ps();
    for (size_t k = 0; k < K; k += 16) {
      const __m512 a = bf16x16(w0 + k), b = bf16x16(w1 + k);
      for (int j = 0; j < NT; j++) {
        const __m512 x = _mm512_loadu_ps(X + j * ldx + k);
        acc0[j] = _mm512_fmadd_ps(a, x, acc0[j]);
        acc1[j] = _mm512_fmadd_ps(b, x, acc1[j]);
      }
    }
    for (int j = 0; j < NT; j++) {
      Y[j * ldy + r] = _mm512_reduce_add_ps(acc0[j]);
      Y[j * ldy + r + 1] = _mm512_reduce_add_ps(acc1[j]);
    }
  }
  if (r < r1) bf16_rows_avx512<NT>(W, K, X, ldx, Y, ldy, r, r1);
}

// Copies a token tile into [K/step][NT][step] order: the kernels then walk one pointer instead of NT.
static inline const float* pack_tile(const float* X, size_t ldx, int n, size_t K, int step) {
  thread_local std::vector<float> buf;
  buf.resize(K * n);
  for (size_t k = 0; k < K; k += step)
    for (int j = 0; j < n; j++) std::memcpy(&buf[k * n + j * step], X + j * ldx + k, step * sizeof(float));
  return buf.data();
}

template <int NT>
AVX512_TARGET static void bf16_rowpairs_packed(const uint16_t* W, size_t K, const float* P, float* Y, size_t ldy,
                                               int r0, int r1) {
  int r = r0;
  for (; r < r1; r += 2) {
    const bool two = r + 1 < r1;
    const uint16_t* w0 = W + static_cast<size_t>(r) * K;
    const uint16_t* w1 = two ? w0 + K : w0;
    __m512 acc0[NT], acc1[NT];
    for (int j = 0; j < NT; j++) acc0[j] = acc1[j] = _mm512_setzero_ps();
    const float* xp = P;
    for (size_t k = 0; k < K; k += 16, xp += NT * 16) {
      const __m512 a = bf16x16(w0 + k), b = bf16x16(w1 + k);
      for (int j = 0; j < NT; j++) {
        const __m512 x = _mm512_loadu_ps(xp + j * 16);
        acc0[j] = _mm512_fmadd_ps(a, x, acc0[j]);
        acc1[j] = _mm512_fmadd_ps(b, x, acc1[j]);
      }
    }
    for (int j = 0; j < NT; j++) {
      Y[j * ldy + r] = _mm512_reduce_add_ps(acc0[j]);
      if (two) Y[j * ldy + r + 1] = _mm512_reduce_add_ps(acc1[j]);
    }
  }
}

// Decode (one token): 32 bf16 weights per 64-byte load become two fp32 vectors with one shift (even elements)
// and one mask (odd elements), against activations split the same way (split_mxfp4_input's order); four
// independent accumulators; no software prefetch (on huge pages the hardware prefetchers stream further ahead
// than it, and it costs load slots: 87% of a plain read's bandwidth against 70% for the widening kernel).
AVX512_TARGET static void bf16_rows1_split_avx512(const uint16_t* W, size_t K, const float* X, float* Y, int r0,
                                                  int r1) {
  thread_local std::vector<float> xs;
  xs.resize(K);
  split_mxfp4_input(X, xs.data(), K);
  const float* x = xs.data();
  const __m512i hi = _mm512_set1_epi32(static_cast<int>(0xFFFF0000u));
  for (int r = r0; r < r1; r++) {
    const uint16_t* w = W + static_cast<size_t>(r) * K;
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    size_t k = 0;
    for (; k + 64 <= K; k += 64) {
      const __m512i v0 = _mm512_loadu_si512(w + k), v1 = _mm512_loadu_si512(w + k + 32);
      a0 = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_slli_epi32(v0, 16)), _mm512_loadu_ps(x + k), a0);
      a1 = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_and_si512(v0, hi)), _mm512_loadu_ps(x + k + 16), a1);
      a2 = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_slli_epi32(v1, 16)), _mm512_loadu_ps(x + k + 32), a2);
      a3 = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_and_si512(v1, hi)), _mm512_loadu_ps(x + k + 48), a3);
    }
    for (; k < K; k += 32) {
      const __m512i v0 = _mm512_loadu_si512(w + k);
      a0 = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_slli_epi32(v0, 16)), _mm512_loadu_ps(x + k), a0);
      a1 = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_and_si512(v0, hi)), _mm512_loadu_ps(x + k + 16), a1);
    }
    Y[r] = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
  }
}

AVX512_TARGET static void matmul_bf16_avx512(const uint16_t* W, size_t K, const float* X, size_t ldx, int T,
                                             float* Y, size_t ldy, int r0, int r1) {
  if (T == 1 && K % 32 == 0) return bf16_rows1_split_avx512(W, K, X, Y, r0, r1);
  if (T == 1) return bf16_rows_avx512<1>(W, K, X, ldx, Y, ldy, r0, r1);
  if (K % 16 != 0) {
    for (int t = 0; t < T; t++) bf16_rows_avx512<1>(W, K, X + t * ldx, ldx, Y + t * ldy, ldy, r0, r1);
    return;
  }
  token_tiles(T, [&](int t, int n) {
    const float* P = pack_tile(X + t * ldx, ldx, n, K, 16);
    HARMONIA_DISPATCH_NT(bf16_rowpairs_packed, n, W, K, P, Y + t * ldy, ldy, r0, r1)
  });
}

template <int NT>
AVX512_TARGET static void mxfp4_rows_avx512(const uint8_t* blocks, const uint8_t* scales, size_t K,
                                            const float* X, size_t ldx, float* Y, size_t ldy, int r0, int r1) {
  const size_t nb = K / 32;
  const __m512 lut = _mm512_loadu_ps(kFp4Values);
  const __m512i m15 = _mm512_set1_epi32(15);
  for (int r = r0; r < r1; r++) {
    const uint8_t* blk = blocks + static_cast<size_t>(r) * nb * 16;
    const uint8_t* sc = scales + static_cast<size_t>(r) * nb;
    __m512 acc[NT], acc2[NT];
    for (int j = 0; j < NT; j++) acc[j] = acc2[j] = _mm512_setzero_ps();
    for (size_t b = 0; b < nb; b++) {
      // Software prefetch ~2 KiB ahead: hardware prefetchers stop at 4 KiB page boundaries, and decode
      // reads each expert row exactly once.
      if ((b & 3) == 0) _mm_prefetch(reinterpret_cast<const char*>(blk + b * 16 + kPrefetchAhead), _MM_HINT_T0);
      if ((b & 63) == 0) _mm_prefetch(reinterpret_cast<const char*>(sc + b + 256), _MM_HINT_T0);
      const __m512i v = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + b * 16)));
      const __m512 s = _mm512_set1_ps(kE8M0[sc[b]]);
      const __m512 wl = _mm512_mul_ps(_mm512_permutexvar_ps(_mm512_and_si512(v, m15), lut), s);
      const __m512 wh = _mm512_mul_ps(_mm512_permutexvar_ps(_mm512_srli_epi32(v, 4), lut), s);
      const float* xb = X + b * 32;
      for (int j = 0; j < NT; j++) {
        acc[j] = _mm512_fmadd_ps(wl, _mm512_loadu_ps(xb + j * ldx), acc[j]);
        acc2[j] = _mm512_fmadd_ps(wh, _mm512_loadu_ps(xb + j * ldx + 16), acc2[j]);
      }
    }
    for (int j = 0; j < NT; j++) Y[j * ldy + r] = _mm512_reduce_add_ps(_mm512_add_ps(acc[j], acc2[j]));
  }
}

// Prefill: decode two rows' blocks, then apply both to each token's activations.
template <int NT>
AVX512_TARGET static void mxfp4_rowpairs_avx512(const uint8_t* blocks, const uint8_t* scales, size_t K,
                                                const float* X, size_t ldx, float* Y, size_t ldy, int r0, int r1) {
  const size_t nb = K / 32;
  const __m512 lut = _mm512_loadu_ps(kFp4Values);
  const __m512i m15 = _mm512_set1_epi32(15);
  int r = r0;
  for (; r + 2 <= r1; r += 2) {
    const uint8_t* blk0 = blocks + static_cast<size_t>(r) * nb * 16;
    const uint8_t* blk1 = blk0 + nb * 16;
    const uint8_t* sc0 = scales + static_cast<size_t>(r) * nb;
    const uint8_t* sc1 = sc0 + nb;
    __m512 acc0[NT], acc1[NT];
    for (int j = 0; j < NT; j++) acc0[j] = acc1[j] = _mm512_setzero_ps();
    for (size_t b = 0; b < nb; b++) {
      if ((b & 3) == 0) {
        _mm_prefetch(reinterpret_cast<const char*>(blk1 + b * 16 + nb * 16), _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<const char*>(blk1 + b * 16 + nb * 32), _MM_HINT_T0);
      }
      const __m512i v0 = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk0 + b * 16)));
      const __m512i v1 = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk1 + b * 16)));
      const __m512 s0 = _mm512_set1_ps(kE8M0[sc0[b]]), s1 = _mm512_set1_ps(kE8M0[sc1[b]]);
      const __m512 l0 = _mm512_mul_ps(_mm512_permutexvar_ps(_mm512_and_si512(v0, m15), lut), s0);
      const __m512 h0 = _mm512_mul_ps(_mm512_permutexvar_ps(_mm512_srli_epi32(v0, 4), lut), s0);
      const __m512 l1 = _mm512_mul_ps(_mm512_permutexvar_ps(_mm512_and_si512(v1, m15), lut), s1);
      const __m512 h1 = _mm512_mul_ps(_mm512_permutexvar_ps(_mm512_srli_epi32(v1, 4), lut), s1);
      const float* xb = X + b * 32;
      for (int j = 0; j < NT; j++) {
        const __m512 xe = _mm512_loadu_ps(xb + j * ldx), xo = _mm512_loadu_ps(xb + j * ldx + 16);
        acc0[j] = _mm512_fmadd_ps(h0, xo, _mm512_fmadd_ps(l0, xe, acc0[j]));
        acc1[j] = _mm512_fmadd_ps(h1, xo, _mm512_fmadd_ps(l1, xe, acc1[j]));
      }
    }
    for (int j = 0; j < NT; j++) {
      Y[j * ldy + r] = _mm512_reduce_add_ps(acc0[j]);
      Y[j * ldy + r + 1] = _mm512_reduce_add_ps(acc1[j]);
    }
  }
  if (r < r1) mxfp4_rows_avx512<NT>(blocks, scales, K, X, ldx, Y, ldy, r, r1);
}

// Decode (one token): two blocks per iteration into independent accumulators, scale applied once per block
// after the even/odd products (fewer instructions per byte than the multi-token kernel).
AVX512_TARGET static void mxfp4_rows1_avx512(const uint8_t* blocks, const uint8_t* scales, size_t K, const float* X,
                                             float* Y, int r0, int r1) {
  const size_t nb = K / 32;
  const __m512 lut = _mm512_loadu_ps(kFp4Values);
  const __m512i m15 = _mm512_set1_epi32(15);
  for (int r = r0; r < r1; r++) {
    const uint8_t* blk = blocks + static_cast<size_t>(r) * nb * 16;
    const uint8_t* sc = scales + static_cast<size_t>(r) * nb;
    _mm_prefetch(reinterpret_cast<const char*>(sc + nb), _MM_HINT_T0);
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    size_t b = 0;
    for (; b + 2 <= nb; b += 2) {
      if ((b & 3) == 0) _mm_prefetch(reinterpret_cast<const char*>(blk + b * 16 + kPrefetchAhead), _MM_HINT_T0);
      const __m512i v0 = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + b * 16)));
      const __m512i v1 = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + b * 16 + 16)));
      const float* xb = X + b * 32;
      __m512 p0 = _mm512_mul_ps(_mm512_permutexvar_ps(_mm512_and_si512(v0, m15), lut), _mm512_loadu_ps(xb));
      __m512 p1 = _mm512_mul_ps(_mm512_permutexvar_ps(_mm512_and_si512(v1, m15), lut), _mm512_loadu_ps(xb + 32));
      p0 = _mm512_fmadd_ps(_mm512_permutexvar_ps(_mm512_srli_epi32(v0, 4), lut), _mm512_loadu_ps(xb + 16), p0);
      p1 = _mm512_fmadd_ps(_mm512_permutexvar_ps(_mm512_srli_epi32(v1, 4), lut), _mm512_loadu_ps(xb + 48), p1);
      acc0 = _mm512_fmadd_ps(p0, _mm512_set1_ps(kE8M0[sc[b]]), acc0);
      acc1 = _mm512_fmadd_ps(p1, _mm512_set1_ps(kE8M0[sc[b + 1]]), acc1);
    }
    for (; b < nb; b++) {
      const __m512i v0 = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + b * 16)));
      const float* xb = X + b * 32;
      __m512 p0 = _mm512_mul_ps(_mm512_permutexvar_ps(_mm512_and_si512(v0, m15), lut), _mm512_loadu_ps(xb));
      p0 = _mm512_fmadd_ps(_mm512_permutexvar_ps(_mm512_srli_epi32(v0, 4), lut), _mm512_loadu_ps(xb + 16), p0);
      acc0 = _mm512_fmadd_ps(p0, _mm512_set1_ps(kE8M0[sc[b]]), acc0);
    }
    Y[r] = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
  }
}

template <int NT>
AVX512_TARGET static void mxfp4_rowpairs_packed(const uint8_t* blocks, const uint8_t* scales, size_t K,
                                                const float* P, float* Y, size_t ldy, int r0, int r1, size_t kb0,
                                                size_t kb1, bool accumulate) {
  const size_t nb = K / 32;
  const __m512 lut = _mm512_loadu_ps(kFp4Values);
  const __m512i m15 = _mm512_set1_epi32(15);
  for (int r = r0; r < r1; r += 2) {
    const bool two = r + 1 < r1;
    const uint8_t* blk0 = blocks + static_cast<size_t>(r) * nb * 16;
    const uint8_t* blk1 = two ? blk0 + nb * 16 : blk0;
    const uint8_t* sc0 = scales + static_cast<size_t>(r) * nb;
    const uint8_t* sc1 = two ? sc0 + nb : sc0;
    __m512 acc0[NT], acc1[NT];
    for (int j = 0; j < NT; j++) acc0[j] = acc1[j] = _mm512_setzero_ps();
    const float* xp = P + kb0 * NT * 32;
    for (size_t b = kb0; b < kb1; b++, xp += NT * 32) {
      if ((b & 3) == 0) {
        _mm_prefetch(reinterpret_cast<const char*>(blk1 + b * 16 + nb * 16), _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<const char*>(blk1 + b * 16 + nb * 32), _MM_HINT_T0);
      }
      const __m512i v0 = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk0 + b * 16)));
      const __m512i v1 = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk1 + b * 16)));
      const __m512 s0 = _mm512_set1_ps(kE8M0[sc0[b]]), s1 = _mm512_set1_ps(kE8M0[sc1[b]]);
      const __m512 l0 = _mm512_mul_ps(_mm512_permutexvar_ps(_mm512_and_si512(v0, m15), lut), s0);
      const __m512 h0 = _mm512_mul_ps(_mm512_permutexvar_ps(_mm512_srli_epi32(v0, 4), lut), s0);
      const __m512 l1 = _mm512_mul_ps(_mm512_permutexvar_ps(_mm512_and_si512(v1, m15), lut), s1);
      const __m512 h1 = _mm512_mul_ps(_mm512_permutexvar_ps(_mm512_srli_epi32(v1, 4), lut), s1);
      for (int j = 0; j < NT; j++) {
        const __m512 xe = _mm512_loadu_ps(xp + j * 32), xo = _mm512_loadu_ps(xp + j * 32 + 16);
        acc0[j] = _mm512_fmadd_ps(h0, xo, _mm512_fmadd_ps(l0, xe, acc0[j]));
        acc1[j] = _mm512_fmadd_ps(h1, xo, _mm512_fmadd_ps(l1, xe, acc1[j]));
      }
    }
    for (int j = 0; j < NT; j++) {
      const float a = _mm512_reduce_add_ps(acc0[j]), c = _mm512_reduce_add_ps(acc1[j]);
      Y[j * ldy + r] = accumulate ? Y[j * ldy + r] + a : a;
      if (two) Y[j * ldy + r + 1] = accumulate ? Y[j * ldy + r + 1] + c : c;
    }
  }
}

// Prefill with many tokens per expert: four weight rows are decoded to fp32 once (a 4 x K tile, L1/L2-resident)
// and reused by every token routed here, so the inner loop is only loads and FMAs (4 rows x up to 6 tokens of
// accumulators in registers). Below kTiledMinTokens the decode-in-registers kernel is faster.
template <int NT>
AVX512_TARGET static void fma_rows4_fullk(const float* W, size_t K, const float* X, size_t ldx, float* Y, size_t ldy,
                                          int r, int nr) {
  __m512 acc[4][NT];
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < NT; j++) acc[i][j] = _mm512_setzero_ps();
  for (size_t k = 0; k < K; k += 16) {
    const __m512 w0 = _mm512_loadu_ps(W + k), w1 = _mm512_loadu_ps(W + K + k);
    const __m512 w2 = _mm512_loadu_ps(W + 2 * K + k), w3 = _mm512_loadu_ps(W + 3 * K + k);
    for (int j = 0; j < NT; j++) {
      const __m512 x = _mm512_loadu_ps(X + j * ldx + k);
      acc[0][j] = _mm512_fmadd_ps(w0, x, acc[0][j]);
      acc[1][j] = _mm512_fmadd_ps(w1, x, acc[1][j]);
      acc[2][j] = _mm512_fmadd_ps(w2, x, acc[2][j]);
      acc[3][j] = _mm512_fmadd_ps(w3, x, acc[3][j]);
    }
  }
  for (int i = 0; i < nr; i++)
    for (int j = 0; j < NT; j++) Y[j * ldy + r + i] = _mm512_reduce_add_ps(acc[i][j]);
}

AVX512_TARGET static void mxfp4_fullk_avx512(const uint8_t* blocks, const uint8_t* scales, size_t K, const float* X,
                                             size_t ldx, int T, float* Y, size_t ldy, int r0, int r1) {
  const size_t nb = K / 32;
  const __m512 lut = _mm512_loadu_ps(kFp4Values);
  const __m512i m15 = _mm512_set1_epi32(15);
  thread_local std::vector<float> wt;
  wt.resize(4 * K);
  for (int r = r0; r < r1; r += 4) {
    const int nr = std::min(4, r1 - r);
    for (int i = 0; i < 4; i++) {
      float* w = wt.data() + i * K;
      if (i >= nr) {  // padding rows of the last group: computed, never stored
        std::memset(w, 0, K * sizeof(float));
        continue;
      }
      const uint8_t* blk = blocks + static_cast<size_t>(r + i) * nb * 16;
      const uint8_t* sc = scales + static_cast<size_t>(r + i) * nb;
      for (size_t b = 0; b < nb; b++, w += 32) {
        if ((b & 3) == 0) _mm_prefetch(reinterpret_cast<const char*>(blk + b * 16 + 4 * nb * 16), _MM_HINT_T0);
        const __m512i v = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + b * 16)));
        const __m512 s = _mm512_set1_ps(kE8M0[sc[b]]);
        _mm512_storeu_ps(w, _mm512_mul_ps(_mm512_permutexvar_ps(_mm512_and_si512(v, m15), lut), s));
        _mm512_storeu_ps(w + 16, _mm512_mul_ps(_mm512_permutexvar_ps(_mm512_srli_epi32(v, 4), lut), s));
      }
    }
    int t = 0;
    while (t < T) {
      const int passes = (T - t + 5) / 6, n = (T - t + passes - 1) / passes;
      const float* Xt = X + t * ldx;
      float* Yt = Y + t * ldy;
      switch (n) {
        case 1: fma_rows4_fullk<1>(wt.data(), K, Xt, ldx, Yt, ldy, r, nr); break;
        case 2: fma_rows4_fullk<2>(wt.data(), K, Xt, ldx, Yt, ldy, r, nr); break;
        case 3: fma_rows4_fullk<3>(wt.data(), K, Xt, ldx, Yt, ldy, r, nr); break;
        case 4: fma_rows4_fullk<4>(wt.data(), K, Xt, ldx, Yt, ldy, r, nr); break;
        case 5: fma_rows4_fullk<5>(wt.data(), K, Xt, ldx, Yt, ldy, r, nr); break;
        default: fma_rows4_fullk<6>(wt.data(), K, Xt, ldx, Yt, ldy, r, nr); break;
      }
      t += n;
    }
  }
}

AVX512_TARGET static void matmul_mxfp4_avx512(const uint8_t* blocks, const uint8_t* scales, size_t K,
                                              const float* X, size_t ldx, int T, float* Y, size_t ldy, int r0,
                                              int r1) {
  if (T == 1) return mxfp4_rows1_avx512(blocks, scales, K, X, Y, r0, r1);
  if (T >= kTiledMinTokens) return mxfp4_fullk_avx512(blocks, scales, K, X, ldx, T, Y, ldy, r0, r1);
  token_tiles(T, [&](int t, int n) {
    const float* P = pack_tile(X + t * ldx, ldx, n, K, 32);
    // K-blocking: a 32 KiB slice of the activation tile stays in L1 while every row of the range uses it.
    const size_t nb = K / 32, step = std::max<size_t>(1, 8192 / (n * 32));
    for (size_t kb = 0; kb < nb; kb += step) {
      HARMONIA_DISPATCH_NT(mxfp4_rowpairs_packed, n, blocks, scales, K, P, Y + t * ldy, ldy, r0, r1, kb,
                           std::min(nb, kb + step), kb > 0)
    }
  });
}

// ---------------------------------------------------------------- AVX-512 BF16 (opt-in prefill)
#define BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16,fma")))

void to_bf16(const float* x, uint16_t* out, size_t n) {
  for (size_t i = 0; i < n; i++) {
    uint32_t b;
    std::memcpy(&b, &x[i], 4);
    out[i] = static_cast<uint16_t>((b + 0x7fff + ((b >> 16) & 1)) >> 16);
  }
}

template <int NT>
BF16_TARGET static void bf16x_rowpairs(const uint16_t* W, size_t K, const uint16_t* X, size_t ldx, float* Y,
                                       size_t ldy, int r0, int r1) {
  int r = r0;
  for (; r < r1; r += 2) {
    const bool two = r + 1 < r1;
    const uint16_t* w0 = W + static_cast<size_t>(r) * K;
    const uint16_t* w1 = two ? w0 + K : w0;
    __m512 acc0[NT], acc1[NT];
    for (int j = 0; j < NT; j++) acc0[j] = acc1[j] = _mm512_setzero_ps();
    for (size_t k = 0; k < K; k += 32) {
      const __m512bh a = (__m512bh)_mm512_loadu_si512(w0 + k);
      const __m512bh b = (__m512bh)_mm512_loadu_si512(w1 + k);
      for (int j = 0; j < NT; j++) {
        const __m512bh x = (__m512bh)_mm512_loadu_si512(X + j * ldx + k);
        acc0[j] = _mm512_dpbf16_ps(acc0[j], a, x);
        acc1[j] = _mm512_dpbf16_ps(acc1[j], b, x);
      }
    }
    for (int j = 0; j < NT; j++) {
      Y[j * ldy + r] = _mm512_reduce_add_ps(acc0[j]);
      if (two) Y[j * ldy + r + 1] = _mm512_reduce_add_ps(acc1[j]);
    }
  }
}

BF16_TARGET static void matmul_bf16x(const uint16_t* W, size_t K, const uint16_t* X, size_t ldx, int T, float* Y,
                                     size_t ldy, int r0, int r1) {
  token_tiles(T, [&](int t, int n) {
    HARMONIA_DISPATCH_NT(bf16x_rowpairs, n, W, K, X + t * ldx, ldx, Y + t * ldy, ldy, r0, r1)
  });
}

// One MXFP4 block as 32 bf16 weights in natural order, with the E8M0 scale folded into the exponent (exact for
// powers of two); blocks whose scale could over/underflow bf16 fall back to an fp32 multiply.
BF16_TARGET static inline __m512bh mxfp4_block_bf16(const uint8_t* blk, uint8_t scale, __m512i lut, bool& folded) {
  const __m512i v = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk)));
  const __m512i idx =
      _mm512_or_si512(_mm512_and_si512(v, _mm512_set1_epi32(15)), _mm512_slli_epi32(_mm512_srli_epi32(v, 4), 16));
  __m512i w = _mm512_permutexvar_epi16(idx, lut);
  folded = scale >= 40 && scale <= 215;
  if (folded) {
    const __mmask32 nonzero = _mm512_test_epi16_mask(idx, _mm512_set1_epi16(7));
    w = _mm512_mask_add_epi16(w, nonzero, w, _mm512_set1_epi16(static_cast<int16_t>((scale - 127) << 7)));
  }
  return (__m512bh)w;
}

template <int NT>
BF16_TARGET static void mxfp4x_rowpairs(const uint8_t* blocks, const uint8_t* scales, size_t K, const uint16_t* X,
                                        size_t ldx, float* Y, size_t ldy, int r0, int r1) {
  const size_t nb = K / 32;
  // bf16 bits of FP4_VALUES, padded to 32 entries.
  const __m512i lut = _mm512_set_epi16(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (short)0xC0C0, (short)0xC080,
                                       (short)0xC040, (short)0xC000, (short)0xBFC0, (short)0xBF80, (short)0xBF00,
                                       (short)0x8000, 0x40C0, 0x4080, 0x4040, 0x4000, 0x3FC0, 0x3F80, 0x3F00, 0x0000);
  for (int r = r0; r < r1; r += 2) {
    const bool two = r + 1 < r1;
    const uint8_t* blk0 = blocks + static_cast<size_t>(r) * nb * 16;
    const uint8_t* blk1 = two ? blk0 + nb * 16 : blk0;
    const uint8_t* sc0 = scales + static_cast<size_t>(r) * nb;
    const uint8_t* sc1 = two ? sc0 + nb : sc0;
    __m512 acc0[NT], acc1[NT];
    for (int j = 0; j < NT; j++) acc0[j] = acc1[j] = _mm512_setzero_ps();
    for (size_t b = 0; b < nb; b++) {
      bool f0, f1;
      const __m512bh w0 = mxfp4_block_bf16(blk0 + b * 16, sc0[b], lut, f0);
      const __m512bh w1 = mxfp4_block_bf16(blk1 + b * 16, sc1[b], lut, f1);
      if (f0 && f1) {
        for (int j = 0; j < NT; j++) {
          const __m512bh x = (__m512bh)_mm512_loadu_si512(X + j * ldx + b * 32);
          acc0[j] = _mm512_dpbf16_ps(acc0[j], w0, x);
          acc1[j] = _mm512_dpbf16_ps(acc1[j], w1, x);
        }
      } else {
        const __m512 s0 = _mm512_set1_ps(f0 ? 1.0f : kE8M0[sc0[b]]), s1 = _mm512_set1_ps(f1 ? 1.0f : kE8M0[sc1[b]]);
        for (int j = 0; j < NT; j++) {
          const __m512bh x = (__m512bh)_mm512_loadu_si512(X + j * ldx + b * 32);
          acc0[j] = _mm512_fmadd_ps(_mm512_dpbf16_ps(_mm512_setzero_ps(), w0, x), s0, acc0[j]);
          acc1[j] = _mm512_fmadd_ps(_mm512_dpbf16_ps(_mm512_setzero_ps(), w1, x), s1, acc1[j]);
        }
      }
    }
    for (int j = 0; j < NT; j++) {
      Y[j * ldy + r] = _mm512_reduce_add_ps(acc0[j]);
      if (two) Y[j * ldy + r + 1] = _mm512_reduce_add_ps(acc1[j]);
    }
  }
}

BF16_TARGET static void matmul_mxfp4x(const uint8_t* blocks, const uint8_t* scales, size_t K, const uint16_t* X,
                                      size_t ldx, int T, float* Y, size_t ldy, int r0, int r1) {
  token_tiles(T, [&](int t, int n) {
    HARMONIA_DISPATCH_NT(mxfp4x_rowpairs, n, blocks, scales, K, X + t * ldx, ldx, Y + t * ldy, ldy, r0, r1)
  });
}

static const Bf16ActKernels kBf16Act{matmul_bf16x, matmul_mxfp4x};

const Bf16ActKernels* select_bf16_act_kernels() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512bf16") && __builtin_cpu_supports("avx512bw")) return &kBf16Act;
  return nullptr;
}

// ---------------------------------------------------------------- attention for one query position
static void attend_generic(const float* q, int qpk, int hd, const float* K, const float* V, size_t ldkv, int n,
                           const float* sinks, float scale, float* out) {
  thread_local std::vector<float> scores;
  scores.resize(n);
  for (int m = 0; m < qpk; m++) {
    const float* qv = q + m * hd;
    float mx = sinks[m];
    for (int j = 0; j < n; j++) {
      const float* kv = K + j * ldkv;
      float s = 0.f;
      for (int d = 0; d < hd; d++) s += qv[d] * kv[d];
      s *= scale;
      scores[j] = s;
      mx = std::max(mx, s);
    }
    float denom = std::exp(sinks[m] - mx);
    for (int j = 0; j < n; j++) {
      scores[j] = std::exp(scores[j] - mx);
      denom += scores[j];
    }
    float* o = out + m * hd;
    std::fill(o, o + hd, 0.f);
    for (int j = 0; j < n; j++) {
      const float p = scores[j] / denom;
      const float* vv = V + j * ldkv;
      for (int d = 0; d < hd; d++) o[d] += p * vv[d];
    }
  }
}

// AVX-512: each key row is loaded once for all qpk heads (scores) and each value row once for all heads.
AVX512_TARGET static void attend_avx512(const float* q, int qpk, int hd, const float* K, const float* V, size_t ldkv,
                                        int n, const float* sinks, float scale, float* out) {
  if (hd % 16 != 0 || hd > 256 || qpk > 16) return attend_generic(q, qpk, hd, K, V, ldkv, n, sinks, scale, out);
  thread_local std::vector<float> scores;
  scores.resize(static_cast<size_t>(n) * qpk);
  float mx[16], denom[16];
  for (int m = 0; m < qpk; m++) mx[m] = sinks[m];
  for (int j = 0; j < n; j++) {
    const float* kv = K + j * ldkv;
    for (int m = 0; m < qpk; m++) {
      const float* qv = q + m * hd;
      __m512 a = _mm512_mul_ps(_mm512_loadu_ps(qv), _mm512_loadu_ps(kv));
      for (int d = 16; d < hd; d += 16) a = _mm512_fmadd_ps(_mm512_loadu_ps(qv + d), _mm512_loadu_ps(kv + d), a);
      const float s = _mm512_reduce_add_ps(a) * scale;
      scores[static_cast<size_t>(m) * n + j] = s;
      mx[m] = std::max(mx[m], s);
    }
  }
  for (int m = 0; m < qpk; m++) {
    float* sc = scores.data() + static_cast<size_t>(m) * n;
    float den = std::exp(sinks[m] - mx[m]);
    for (int j = 0; j < n; j++) den += (sc[j] = std::exp(sc[j] - mx[m]));
    denom[m] = 1.0f / den;
  }
  for (int m = 0; m < qpk; m++) {
    __m512 acc[16];
    const int nv = hd / 16;
    for (int v = 0; v < nv; v++) acc[v] = _mm512_setzero_ps();
    const float* sc = scores.data() + static_cast<size_t>(m) * n;
    for (int j = 0; j < n; j++) {
      const __m512 p = _mm512_set1_ps(sc[j]);
      const float* vv = V + j * ldkv;
      for (int v = 0; v < nv; v++) acc[v] = _mm512_fmadd_ps(p, _mm512_loadu_ps(vv + 16 * v), acc[v]);
    }
    const __m512 r = _mm512_set1_ps(denom[m]);
    for (int v = 0; v < nv; v++) _mm512_storeu_ps(out + m * hd + 16 * v, _mm512_mul_ps(acc[v], r));
  }
}

// ---------------------------------------------------------------- clamped SwiGLU
static void swiglu_generic(const float* h, const float* b, int I, float limit, float alpha, float* out) {
  for (int i = 0; i < I; i++) {
    // Interleaved rows: 2i is the gate, 2i+1 the linear ("up") part.
    const float gate = std::min(h[2 * i] + b[2 * i], limit);
    const float up = std::clamp(h[2 * i + 1] + b[2 * i + 1], -limit, limit);
    out[i] = gate / (1.0f + std::exp(-alpha * gate)) * (up + 1.0f);
  }
}

// e^x to ~1 ulp: 2^n * e^r with n = round(x / ln 2), r reduced in two steps, a degree-6 polynomial for e^r.
AVX512_TARGET static inline __m512 exp_avx512(__m512 x) {
  x = _mm512_max_ps(_mm512_min_ps(x, _mm512_set1_ps(88.7f)), _mm512_set1_ps(-103.0f));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)), _MM_FROUND_TO_NEAREST_INT);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693145751953125f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(1.428606765330187045e-6f), r);
  __m512 p = _mm512_set1_ps(1.0f / 720);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  return _mm512_scalef_ps(p, n);
}

AVX512_TARGET static void swiglu_avx512(const float* h, const float* b, int I, float limit, float alpha, float* out) {
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  const __m512 lim = _mm512_set1_ps(limit), nlim = _mm512_set1_ps(-limit), na = _mm512_set1_ps(-alpha);
  const __m512 one = _mm512_set1_ps(1.0f);
  int i = 0;
  for (; i + 16 <= I; i += 16) {
    const __m512 v0 = _mm512_add_ps(_mm512_loadu_ps(h + 2 * i), _mm512_loadu_ps(b + 2 * i));
    const __m512 v1 = _mm512_add_ps(_mm512_loadu_ps(h + 2 * i + 16), _mm512_loadu_ps(b + 2 * i + 16));
    const __m512 gate = _mm512_min_ps(_mm512_permutex2var_ps(v0, even, v1), lim);
    const __m512 up = _mm512_max_ps(_mm512_min_ps(_mm512_permutex2var_ps(v0, odd, v1), lim), nlim);
    const __m512 sig = _mm512_div_ps(gate, _mm512_add_ps(one, exp_avx512(_mm512_mul_ps(na, gate))));
    _mm512_storeu_ps(out + i, _mm512_mul_ps(sig, _mm512_add_ps(up, one)));
  }
  if (i < I) swiglu_generic(h + 2 * i, b + 2 * i, I - i, limit, alpha, out + i);
}

// ---------------------------------------------------------------- int8 activations (prefill 'int8')
// MXFP4 codes as ggml's doubled integers (value = kMxfp4Int[code] * 2^(e-128)), and the same plus 12 as the
// unsigned operand of vpdpbusd (the 12 * sum(q) excess is subtracted through the accumulator's start value).
static const int8_t kMxfp4Int[16] = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};
constexpr int kMxfp4Offset = 12;

// 2^(e-128), the scale of the doubled integers; e = 0 (2^-128, below fp32's normal range) flushes to 0 as
// the fp32 path's denormal handling does.
static inline float e8m0_half(uint8_t e) {
  const uint32_t bits = e ? static_cast<uint32_t>(e - 1) << 23 : 0;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// One row: q (K int8), d (K/32 scales), s (K/32 sums of q).
static void quantize_row_q8(const float* x, size_t K, int8_t* q, float* d, int32_t* s) {
  for (size_t b = 0; b < K / 32; b++) {
    float amax = 0.f;
    for (int j = 0; j < 32; j++) amax = std::max(amax, std::fabs(x[b * 32 + j]));
    const float inv = amax > 0.f ? 127.f / amax : 0.f;
    int32_t sum = 0;
    for (int j = 0; j < 32; j++) {
      const int v = static_cast<int>(std::nearbyint(x[b * 32 + j] * inv));
      q[b * 32 + j] = static_cast<int8_t>(std::clamp(v, -127, 127));
      sum += q[b * 32 + j];
    }
    d[b] = amax / 127.f;
    s[b] = sum;
  }
}

// Portable packed form: q [T][K], then d [T][K/32] (the sums are not needed here).
static void quantize_q8_generic(const float* X, int T, size_t K, uint8_t* out) {
  const size_t nb = K / 32;
  int8_t* q = reinterpret_cast<int8_t*>(out);
  float* d = reinterpret_cast<float*>(out + T * K);
  std::vector<int32_t> s(nb);
  for (int t = 0; t < T; t++) quantize_row_q8(X + t * K, K, q + t * K, d + t * nb, s.data());
}

static void matmul_mxfp4_q8_generic(const uint8_t* blocks, const uint8_t* scales, size_t K, const uint8_t* Xq, int T,
                                    float* Y, size_t ldy, int r0, int r1) {
  const size_t nb = K / 32;
  const int8_t* Q = reinterpret_cast<const int8_t*>(Xq);
  const float* D = reinterpret_cast<const float*>(Xq + T * K);
  for (int r = r0; r < r1; r++) {
    const uint8_t* blk = blocks + static_cast<size_t>(r) * nb * 16;
    const uint8_t* sc = scales + static_cast<size_t>(r) * nb;
    for (int t = 0; t < T; t++) {
      const int8_t* q = Q + t * K;
      float acc = 0.f;
      for (size_t b = 0; b < nb; b++) {
        int32_t dot = 0;
        for (int j = 0; j < 16; j++) {
          const uint8_t byte = blk[b * 16 + j];
          dot += kMxfp4Int[byte & 15] * q[b * 32 + j] + kMxfp4Int[byte >> 4] * q[b * 32 + 16 + j];
        }
        acc += static_cast<float>(dot) * (e8m0_half(sc[b]) * D[t * nb + b]);
      }
      Y[t * ldy + r] = acc;
    }
  }
}

static void dot_rows_f32_generic(const float* W, size_t K, const float* x, int n, float* out) {
  for (int i = 0; i < n; i++) {
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    size_t k = 0;
    for (; k + 8 <= K; k += 8)
      for (int j = 0; j < 8; j++) acc[j] += W[i * K + k + j] * x[k + j];
    float s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    for (; k < K; k++) s += W[i * K + k] * x[k];
    out[i] = s;
  }
}

AVX512_TARGET static void quantize_row_q8_avx512(const float* x, size_t K, int8_t* q, float* d, int32_t* s) {
  for (size_t b = 0; b < K / 32; b++) {
    const __m512 x0 = _mm512_loadu_ps(x + b * 32), x1 = _mm512_loadu_ps(x + b * 32 + 16);
    const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(x0), _mm512_abs_ps(x1)));
    const __m512 inv = _mm512_set1_ps(amax > 0.f ? 127.f / amax : 0.f);
    // Round to nearest (MXCSR default), as std::nearbyint in the portable version.
    const __m512i q0 = _mm512_cvtps_epi32(_mm512_mul_ps(x0, inv)), q1 = _mm512_cvtps_epi32(_mm512_mul_ps(x1, inv));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(q + b * 32), _mm512_cvtsepi32_epi8(q0));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(q + b * 32 + 16), _mm512_cvtsepi32_epi8(q1));
    d[b] = amax / 127.f;
    s[b] = _mm512_reduce_add_epi32(_mm512_add_epi32(q0, q1));
  }
}

AVX512_TARGET static void dot_rows_f32_avx512(const float* W, size_t K, const float* x, int n, float* out) {
  for (int i = 0; i < n; i++) {
    const float* w = W + static_cast<size_t>(i) * K;
    __m512 a0 = _mm512_setzero_ps(), a1 = a0;
    size_t k = 0;
    for (; k + 32 <= K; k += 32) {
      a0 = _mm512_fmadd_ps(_mm512_loadu_ps(w + k), _mm512_loadu_ps(x + k), a0);
      a1 = _mm512_fmadd_ps(_mm512_loadu_ps(w + k + 16), _mm512_loadu_ps(x + k + 16), a1);
    }
    for (; k + 16 <= K; k += 16) a0 = _mm512_fmadd_ps(_mm512_loadu_ps(w + k), _mm512_loadu_ps(x + k), a0);
    float s = _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
    for (; k < K; k++) s += w[k] * x[k];
    out[i] = s;
  }
}

#define VNNI_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")))

// In-register transpose of a 16 x 16 dword matrix (r[i] = row i on entry, column i on return).
VNNI_TARGET static inline void transpose16x16(__m512i r[16]) {
  __m512i t[16], u[16];
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_epi32(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_epi32(r[i], r[i + 1]);
  }
  for (int i = 0; i < 16; i += 4) {
    u[i] = _mm512_unpacklo_epi64(t[i], t[i + 2]);
    u[i + 1] = _mm512_unpackhi_epi64(t[i], t[i + 2]);
    u[i + 2] = _mm512_unpacklo_epi64(t[i + 1], t[i + 3]);
    u[i + 3] = _mm512_unpackhi_epi64(t[i + 1], t[i + 3]);
  }
  // u[4q + c] holds column c + 4 * lane for rows 4q..4q+3 (lane = 128-bit lane).
  for (int c = 0; c < 4; c++) {
    const __m512i v0 = _mm512_shuffle_i32x4(u[c], u[4 + c], 0x88), v1 = _mm512_shuffle_i32x4(u[c], u[4 + c], 0xDD);
    const __m512i w0 = _mm512_shuffle_i32x4(u[8 + c], u[12 + c], 0x88);
    const __m512i w1 = _mm512_shuffle_i32x4(u[8 + c], u[12 + c], 0xDD);
    r[c] = _mm512_shuffle_i32x4(v0, w0, 0x88);
    r[c + 8] = _mm512_shuffle_i32x4(v0, w0, 0xDD);
    r[c + 4] = _mm512_shuffle_i32x4(v1, w1, 0x88);
    r[c + 12] = _mm512_shuffle_i32x4(v1, w1, 0xDD);
  }
}

// Low nibbles are split positions 4k..4k+3 (group k), high nibbles 16+4k.. (group k+4).
VNNI_TARGET static inline void expand_nibbles(__m512i v, __m512i lut, __m512i m4, uint8_t* w, int k) {
  _mm512_storeu_si512(w + k * 64, _mm512_shuffle_epi8(lut, _mm512_and_si512(v, m4)));
  _mm512_storeu_si512(w + (k + 4) * 64, _mm512_shuffle_epi8(lut, _mm512_and_si512(_mm512_srli_epi16(v, 4), m4)));
}

// Expands 16 weight rows (all K) for vpdpbusd: wt[b][g][row][4] holds, for block b and 4-element group g of
// the split order, the 4 unsigned weights (code value + 12) of each of the 16 rows, so one 64-byte load
// meets one broadcast dword of activations. Rows past nr repeat the last row (their outputs are not stored).
// ws[b][row] = 2^(e-128). Four blocks (64 bytes per row) go through one 16 x 16 dword transpose.
VNNI_TARGET static void expand_rows16(const uint8_t* blocks, const uint8_t* scales, size_t nb, int r, int nr,
                                      uint8_t* wt, float* ws) {
  const __m512i lut =
      _mm512_broadcast_i32x4(_mm_setr_epi8(12, 13, 14, 15, 16, 18, 20, 24, 12, 11, 10, 9, 8, 6, 4, 0));
  const __m512i m4 = _mm512_set1_epi8(0x0F);
  const uint8_t* src[16];
  const uint8_t* scs[16];
  for (int i = 0; i < 16; i++) {
    src[i] = blocks + static_cast<size_t>(r + std::min(i, nr - 1)) * nb * 16;
    scs[i] = scales + static_cast<size_t>(r + std::min(i, nr - 1)) * nb;
  }
  size_t b = 0;
  __m512i z[16];
  for (; b + 4 <= nb; b += 4) {
    for (int i = 0; i < 16; i++) {
      // 16 row streams at once defeat the hardware prefetcher; fetch each row ~8 iterations ahead, and near the
      // end the start of the next group's rows (the next call's).
      _mm_prefetch(reinterpret_cast<const char*>(src[i] + b * 16 + 512), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(src[i] + b * 16 + 16 * nb * 16), _MM_HINT_T1);
      z[i] = _mm512_loadu_si512(src[i] + b * 16);
    }
    transpose16x16(z);  // z[4 * bb + k] = dword k of block b + bb, rows 0..15
    for (int c = 0; c < 16; c++) expand_nibbles(z[c], lut, m4, wt + (b + c / 4) * 512, c % 4);
  }
  for (; b < nb; b++) {
    for (int i = 0; i < 16; i++) z[i] = _mm512_zextsi128_si512(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src[i] + b * 16)));
    transpose16x16(z);
    for (int k = 0; k < 4; k++) expand_nibbles(z[k], lut, m4, wt + b * 512, k);
  }
  // Scales: 16 blocks at a time, each row's bytes widened to fp32 bit patterns (e - 1) << 23, then transposed.
  const __m512i one = _mm512_set1_epi32(1);
  for (size_t b0 = 0; b0 < nb; b0 += 16) {
    const size_t n = std::min<size_t>(16, nb - b0);
    const __mmask16 m = static_cast<__mmask16>((1u << n) - 1);
    for (int i = 0; i < 16; i++) {
      const __m512i e = _mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(m, scs[i] + b0));
      z[i] = _mm512_maskz_slli_epi32(_mm512_test_epi32_mask(e, e), _mm512_sub_epi32(e, one), 23);
    }
    transpose16x16(z);
    for (size_t j = 0; j < n; j++) _mm512_storeu_si512(ws + (b0 + j) * 16, z[j]);
  }
}

// 16 rows x NT tokens: per block, 8 vpdpbusd per token give each row's exact int32 block dot product in its own
// lane; one convert and one multiply-add per token then apply (weight scale x activation scale). The 16
// outputs of a token are one vector: no horizontal sums. P is the token tile packed as [b][g][NT] dwords,
// C[b][NT] the block sums (the accumulators start at -off x sum, undoing the weights' unsigned offset) and
// Dp[b][NT] the activation scales. wt/ws: 16 rows in expand_rows16's layout, offset `off`.
template <int NT>
VNNI_TARGET static void q8_tile16(const uint8_t* wt, const float* ws, size_t nb, const int32_t* P, const int32_t* C,
                                  const float* Dp, float* Y, size_t ldy, int r, __mmask16 mask, int off) {
  __m512 acc[NT];
  for (int t = 0; t < NT; t++) acc[t] = _mm512_setzero_ps();
  for (size_t b = 0; b < nb; b++, P += 8 * NT, C += NT, Dp += NT) {
    __m512i ia[NT];
    for (int t = 0; t < NT; t++) ia[t] = _mm512_set1_epi32(-off * C[t]);
    const uint8_t* w = wt + b * 512;
    for (int g = 0; g < 8; g++) {
      const __m512i wg = _mm512_loadu_si512(w + g * 64);
      for (int t = 0; t < NT; t++) ia[t] = _mm512_dpbusd_epi32(ia[t], wg, _mm512_set1_epi32(P[g * NT + t]));
    }
    const __m512 s = _mm512_loadu_ps(ws + b * 16);
    for (int t = 0; t < NT; t++)
      acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(ia[t]), _mm512_mul_ps(s, _mm512_set1_ps(Dp[t])), acc[t]);
  }
  for (int t = 0; t < NT; t++) _mm512_mask_storeu_ps(Y + t * ldy + r, mask, acc[t]);
}

// Packed form for the VNNI kernel, per token tile (token_tiles' split of T, tile of n tokens starting at t):
// P [nb][8][n] activation dwords at int32 offset t*nb*8, then C [nb][n] block sums of the int8 values at
// T*nb*8 + t*nb, then D [nb][n] activation scales at T*nb*9 + t*nb.
VNNI_TARGET static void quantize_q8_vnni(const float* X, int T, size_t K, uint8_t* out) {
  const size_t nb = K / 32;
  int32_t* P = reinterpret_cast<int32_t*>(out);
  int32_t* C = P + static_cast<size_t>(T) * nb * 8;
  float* Dp = reinterpret_cast<float*>(C + static_cast<size_t>(T) * nb);
  thread_local std::vector<int8_t> q;
  thread_local std::vector<float> d;
  thread_local std::vector<int32_t> s;
  q.resize(K);
  d.resize(nb);
  s.resize(nb);
  token_tiles(T, [&](int t, int n) {
    int32_t* Pt = P + static_cast<size_t>(t) * nb * 8;
    int32_t* Ct = C + static_cast<size_t>(t) * nb;
    float* Dt = Dp + static_cast<size_t>(t) * nb;
    for (int j = 0; j < n; j++) {
      quantize_row_q8_avx512(X + (t + j) * K, K, q.data(), d.data(), s.data());
      for (size_t b = 0; b < nb; b++) {
        for (int g = 0; g < 8; g++) std::memcpy(Pt + (b * 8 + g) * n + j, q.data() + b * 32 + 4 * g, 4);
        Ct[b * n + j] = s[b];
        Dt[b * n + j] = d[b];
      }
    }
  });
}

// Decode (one token) straight from the MXFP4 layout, no expansion pass: four blocks (64 bytes of one row) per
// step. Low and high nibbles become unsigned bytes (code + 12) through one vpshufb each and meet the int8
// activations of the same split positions in two vpdpbusd, so lane i holds a quarter of block i/4's exact int32
// dot product (started at -12 x the sum of its activations). One convert and one multiply-add by (weight scale x
// activation scale) per four blocks, one horizontal sum per row: ~16 instructions per 68 bytes read, where the
// fp32 one-token kernel needs ~44 and is bound by them, not by memory.
// Per group of four blocks, 64 dwords: the activations of the low-nibble positions ([4 blocks][16] int8), of
// the high-nibble positions, the accumulator start of each lane (-12 x the sum of its 8 activations) and each
// lane's activation scale (fp32).
VNNI_TARGET static void prepare_q8_row1(const int8_t* q, const float* d, size_t nb, std::vector<int32_t>& out) {
  const size_t ng = (nb + 3) / 4;
  out.resize(ng * 64);
  const __m512i twelve = _mm512_set1_epi8(kMxfp4Offset);
  const __m512i quarter = _mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3);
  for (size_t g = 0; g < ng; g++) {
    const size_t b = 4 * g, n = std::min<size_t>(4, nb - b);
    const __mmask64 ma = n >= 2 ? ~0ull : (1ull << 32) - 1;
    const __mmask64 mb = n >= 4 ? ~0ull : n == 3 ? (1ull << 32) - 1 : 0;
    const __m512i a = _mm512_maskz_loadu_epi8(ma, q + b * 32), c = _mm512_maskz_loadu_epi8(mb, q + b * 32 + 64);
    const __m512i lo = _mm512_shuffle_i64x2(a, c, _MM_SHUFFLE(2, 0, 2, 0));
    const __m512i hi = _mm512_shuffle_i64x2(a, c, _MM_SHUFFLE(3, 1, 3, 1));
    const __m512i s = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), twelve, lo), twelve, hi);
    const __m128 d4 = _mm_maskz_loadu_ps(static_cast<__mmask8>((1u << n) - 1), d + b);
    int32_t* o = out.data() + g * 64;
    _mm512_storeu_si512(o, lo);
    _mm512_storeu_si512(o + 16, hi);
    _mm512_storeu_si512(o + 32, _mm512_sub_epi32(_mm512_setzero_si512(), s));
    _mm512_storeu_ps(o + 48, _mm512_permutexvar_ps(quarter, _mm512_castps128_ps512(d4)));
  }
}

// One group: v = 64 weight bytes (four blocks of one row), s4 = their four scale bytes, x = prepare_q8_row1's group.
VNNI_TARGET static inline __attribute__((always_inline)) __m512 q8_row1_step(__m512i v, uint32_t s4, const int32_t* x,
                                                                            __m512 acc) {
  const __m512i lut =
      _mm512_broadcast_i32x4(_mm_setr_epi8(12, 13, 14, 15, 16, 18, 20, 24, 12, 11, 10, 9, 8, 6, 4, 0));
  const __m512i m4 = _mm512_set1_epi8(0x0F), one = _mm512_set1_epi8(1);
  // Byte L of each 128-bit lane L (block L's scale) into the low byte of that lane's four dwords.
  const int z0 = static_cast<int>(0x80808000u), z1 = z0 | 1, z2 = z0 | 2, z3 = z0 | 3;
  const __m512i spread = _mm512_setr_epi32(z0, z0, z0, z0, z1, z1, z1, z1, z2, z2, z2, z2, z3, z3, z3, z3);
  const __m512i lo = _mm512_shuffle_epi8(lut, _mm512_and_si512(v, m4));
  const __m512i hi = _mm512_shuffle_epi8(lut, _mm512_and_si512(_mm512_srli_epi16(v, 4), m4));
  const __m512i ia = _mm512_dpbusd_epi32(
      _mm512_dpbusd_epi32(_mm512_loadu_si512(x + 32), lo, _mm512_loadu_si512(x)), hi, _mm512_loadu_si512(x + 16));
  // 2^(e-128) as fp32 bits (e - 1) << 23; e = 0 and 1 give 0 (below the normal range, as e8m0_half).
  const __m512i e = _mm512_shuffle_epi8(_mm512_subs_epu8(_mm512_set1_epi32(static_cast<int>(s4)), one), spread);
  const __m512 ws = _mm512_castsi512_ps(_mm512_slli_epi32(e, 23));
  return _mm512_fmadd_ps(_mm512_cvtepi32_ps(ia), _mm512_mul_ps(ws, _mm512_loadu_ps(reinterpret_cast<const float*>(x + 48))), acc);
}

VNNI_TARGET static void mxfp4_rows1_q8_vnni(const uint8_t* blocks, const uint8_t* scales, size_t nb, const int32_t* x,
                                            float* Y, int r0, int r1) {
  const size_t full = nb / 4, rest = nb % 4;
  const __mmask64 tail = (1ull << (rest * 16)) - 1;  // the last 1-3 blocks: masked loads, never past the row
  for (int r = r0; r < r1; r++) {
    const uint8_t* blk = blocks + static_cast<size_t>(r) * nb * 16;
    const uint8_t* sc = scales + static_cast<size_t>(r) * nb;
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    size_t g = 0;
    for (; g + 2 <= full; g += 2) {
      uint32_t s0, s1;
      std::memcpy(&s0, sc + 4 * g, 4);
      std::memcpy(&s1, sc + 4 * g + 4, 4);
#ifdef PFD
      _mm_prefetch(reinterpret_cast<const char*>(blk + g * 64) + PFD, _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(blk + g * 64) + PFD + 64, _MM_HINT_T0);
#endif
      acc0 = q8_row1_step(_mm512_loadu_si512(blk + g * 64), s0, x + g * 64, acc0);
      acc1 = q8_row1_step(_mm512_loadu_si512(blk + g * 64 + 64), s1, x + g * 64 + 64, acc1);
    }
    if (g < full) {
      uint32_t s0;
      std::memcpy(&s0, sc + 4 * g, 4);
      acc0 = q8_row1_step(_mm512_loadu_si512(blk + g * 64), s0, x + g * 64, acc0);
      g++;
    }
    if (rest) {
      uint32_t s0 = 0;
      std::memcpy(&s0, sc + 4 * g, rest);
      acc1 = q8_row1_step(_mm512_maskz_loadu_epi8(tail, blk + g * 64), s0, x + g * 64, acc1);
    }
    Y[r] = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
  }
}

VNNI_TARGET static void matmul_mxfp4_q8_vnni(const uint8_t* blocks, const uint8_t* scales, size_t K, const uint8_t* Xq,
                                             int T, float* Y, size_t ldy, int r0, int r1) {
  const size_t nb = K / 32;
  const int32_t* P = reinterpret_cast<const int32_t*>(Xq);
  const int32_t* C = P + static_cast<size_t>(T) * nb * 8;
  const float* Dp = reinterpret_cast<const float*>(C + static_cast<size_t>(T) * nb);
  if (T == 1) {
    thread_local std::vector<int32_t> x;
    prepare_q8_row1(reinterpret_cast<const int8_t*>(P), Dp, nb, x);
    return mxfp4_rows1_q8_vnni(blocks, scales, nb, x.data(), Y, r0, r1);
  }
  thread_local std::vector<uint8_t> wt;
  thread_local std::vector<float> ws;
  wt.resize(nb * 512);
  ws.resize(nb * 16);
  for (int r = r0; r < r1; r += 16) {
    const int nr = std::min(16, r1 - r);
    expand_rows16(blocks, scales, nb, r, nr, wt.data(), ws.data());
    const __mmask16 mask = static_cast<__mmask16>((1u << nr) - 1);
    token_tiles(T, [&](int t, int n) {
      const size_t o = static_cast<size_t>(t) * nb;
      HARMONIA_DISPATCH_NT(q8_tile16, n, wt.data(), ws.data(), nb, P + o * 8, C + o, Dp + o, Y + t * ldy, ldy, r, mask,
                           kMxfp4Offset)
    });
  }
}

// ---------------------------------------------------------------- int8 dense weights (prefill 'int8')
void build_q8_dense(const uint16_t* W, int rows, size_t K, Q8Dense& out) {
  const size_t nb = K / 32, groups = (rows + 15) / 16;
  out.rows = rows;
  out.K = K;
  out.wt.assign(groups * nb * 512, 128);
  out.ws.assign(groups * nb * 16, 0.f);
  for (int r = 0; r < rows; r++) {
    const uint16_t* w = W + static_cast<size_t>(r) * K;
    const size_t g16 = r / 16, i = r % 16;
    for (size_t b = 0; b < nb; b++) {
      float amax = 0.f;
      for (int j = 0; j < 32; j++) amax = std::max(amax, std::fabs(bf16_to_f32(w[b * 32 + j])));
      const float inv = amax > 0.f ? 127.f / amax : 0.f;
      uint8_t* dst = out.wt.data() + (g16 * nb + b) * 512;
      for (int j = 0; j < 32; j++) {
        const int q = std::clamp(static_cast<int>(std::nearbyint(bf16_to_f32(w[b * 32 + j]) * inv)), -127, 127);
        dst[(j / 4) * 64 + i * 4 + (j % 4)] = static_cast<uint8_t>(q + 128);
      }
      out.ws[(g16 * nb + b) * 16 + i] = amax / 127.f;
    }
  }
}

static void matmul_q8_dense_generic(const Q8Dense& W, const uint8_t* Xq, int T, float* Y, size_t ldy, int r0,
                                    int r1) {
  const size_t K = W.K, nb = K / 32;
  const int8_t* Q = reinterpret_cast<const int8_t*>(Xq);
  const float* D = reinterpret_cast<const float*>(Xq + T * K);
  for (int r = r0; r < r1; r++) {
    const size_t g16 = r / 16, i = r % 16;
    for (int t = 0; t < T; t++) {
      float acc = 0.f;
      for (size_t b = 0; b < nb; b++) {
        const uint8_t* w = W.wt.data() + (g16 * nb + b) * 512;
        int32_t dot = 0;
        for (int j = 0; j < 32; j++) dot += (w[(j / 4) * 64 + i * 4 + (j % 4)] - 128) * Q[t * K + b * 32 + j];
        acc += static_cast<float>(dot) * (W.ws[(g16 * nb + b) * 16 + i] * D[t * nb + b]);
      }
      Y[t * ldy + r] = acc;
    }
  }
}

VNNI_TARGET static void matmul_q8_dense_vnni(const Q8Dense& W, const uint8_t* Xq, int T, float* Y, size_t ldy, int r0,
                                             int r1) {
  const size_t nb = W.K / 32;
  const int32_t* P = reinterpret_cast<const int32_t*>(Xq);
  const int32_t* C = P + static_cast<size_t>(T) * nb * 8;
  const float* Dp = reinterpret_cast<const float*>(C + static_cast<size_t>(T) * nb);
  for (int r = r0; r < r1; r += 16) {
    const int nr = std::min(16, r1 - r);
    const __mmask16 mask = static_cast<__mmask16>((1u << nr) - 1);
    const uint8_t* wt = W.wt.data() + (r / 16) * nb * 512;
    const float* ws = W.ws.data() + (r / 16) * nb * 16;
    token_tiles(T, [&](int t, int n) {
      const size_t o = static_cast<size_t>(t) * nb;
      HARMONIA_DISPATCH_NT(q8_tile16, n, wt, ws, nb, P + o * 8, C + o, Dp + o, Y + t * ldy, ldy, r, mask, 128)
    });
  }
}

const KernelSet kGeneric{"generic", matmul_bf16_generic, matmul_mxfp4_generic, quantize_q8_generic,
                         matmul_mxfp4_q8_generic, dot_rows_f32_generic, attend_generic, matmul_q8_dense_generic, swiglu_generic};
const KernelSet kAvx2{"avx2", matmul_bf16_avx2, matmul_mxfp4_avx2, quantize_q8_generic, matmul_mxfp4_q8_generic,
                      dot_rows_f32_generic, attend_generic, matmul_q8_dense_generic, swiglu_generic};
// AVX-512 without VNNI computes the int8 path with the portable kernel.
const KernelSet kAvx512{"avx512", matmul_bf16_avx512, matmul_mxfp4_avx512, quantize_q8_generic,
                        matmul_mxfp4_q8_generic, dot_rows_f32_avx512, attend_avx512, matmul_q8_dense_generic, swiglu_avx512};
const KernelSet kAvx512Vnni{"avx512", matmul_bf16_avx512, matmul_mxfp4_avx512, quantize_q8_vnni,
                            matmul_mxfp4_q8_vnni, dot_rows_f32_avx512, attend_avx512, matmul_q8_dense_vnni, swiglu_avx512};

const KernelSet& select_kernels(const char* force) {
  __builtin_cpu_init();
  const bool has512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                      __builtin_cpu_supports("avx512vl");
  const bool has2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  const bool vnni = has512 && __builtin_cpu_supports("avx512vnni");
  if (force && *force) {
    if (!std::strcmp(force, "generic")) return kGeneric;
    if (!std::strcmp(force, "avx2") && has2) return kAvx2;
    if (!std::strcmp(force, "avx512") && has512) return vnni ? kAvx512Vnni : kAvx512;
  }
  if (has512) return vnni ? kAvx512Vnni : kAvx512;
  if (has2) return kAvx2;
  return kGeneric;
}

}  // namespace harmonia
