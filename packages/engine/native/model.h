// The gpt-oss forward pass on memory-mapped weights (fp32 activations and KV cache, bf16/MXFP4 weights).
#pragma once
#include <atomic>
#include <initializer_list>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "kernels.h"
#include "threadpool.h"

namespace harmonia {

struct Config {
  int n_layers, n_experts, top_k, vocab, hidden, intermediate, head_dim, n_heads, n_kv_heads, sliding_window;
  int initial_context;
  double swiglu_limit, swiglu_alpha, rope_theta, rope_factor, rope_ntk_alpha, rope_ntk_beta, rms_eps;
  std::vector<bool> layer_sliding;
};

enum class DType { BF16 = 0, F32 = 1, U8 = 2 };

// Where one tensor lives: a file index, the byte offset of its data in that file, and its element type.
struct TensorLoc {
  int file = -1;
  uint64_t offset = 0;
  uint64_t nbytes = 0;
  DType dtype = DType::BF16;
};

struct LayerLocs {
  TensorLoc attn_norm, q_w, q_b, k_w, k_b, v_w, v_b, o_w, o_b, sinks, mlp_norm, router_w, router_b;
  TensorLoc mlp1_blocks, mlp1_scales, mlp1_bias, mlp2_blocks, mlp2_scales, mlp2_bias;
};

struct ModelLocs {
  std::vector<std::string> files;
  TensorLoc embed, norm, unembed;
  std::vector<LayerLocs> layers;
};

enum class YarnMode { Reference, LlamaCpp };

struct Options {
  int threads = 1;
  bool pin = false;
  std::string kernels;  // "" = auto
  YarnMode yarn = YarnMode::Reference;
  int max_batch = 128;   // tokens per prefill chunk
  bool populate = true;  // map all weight pages at load
  bool copy_weights = false;  // read the files into anonymous huge-page memory instead of mapping them
  bool prefill_bf16 = false;  // multi-token chunks: bf16 activations + AVX512_BF16 dot products
  bool prefill_int8 = false;  // multi-token chunks: int8 activations for the MXFP4 experts (VNNI where present)
  bool decode_int8 = false;   // one-token chunks: the same for the MXFP4 experts
};

struct SampleParams {
  float temperature = 1.0f;
  float top_p = 1.0f;
  uint64_t seed = 0;
  bool has_seed = false;
};

class MappedFile {
 public:
  MappedFile(const std::string& path, bool populate, bool copy);
  ~MappedFile();
  const uint8_t* data() const { return data_; }
  uint64_t size() const { return size_; }

 private:
  const uint8_t* data_ = nullptr;
  uint64_t size_ = 0;
};

class Model {
 public:
  Model(const Config& cfg, const ModelLocs& locs, const Options& opts);

  // Feeds `tokens` as the whole context. Reuses the longest cached prefix (always recomputing at least the
  // last token). Fills `logits` with one vocab row per position in [first, tokens.size()) when all_logits,
  // else only the last row. Returns `first`. Throws std::runtime_error("cancelled") when cancelled.
  int evaluate(const std::vector<int32_t>& tokens, bool all_logits, std::vector<float>& logits);
  // Appends tokens to the cached context and returns the last position's logits.
  void append(const std::vector<int32_t>& tokens, bool all_logits, std::vector<float>& logits);
  int sample(const float* logits, const SampleParams& p, std::mt19937_64& rng) const;

  void reset() { cached_.clear(); }
  const std::vector<int32_t>& cached() const { return cached_; }
  const Config& config() const { return cfg_; }
  const char* kernel_name() const { return kernels_->name; }
  const char* prefill_mode() const { return bf16k_ ? "bf16" : opts_.prefill_int8 ? "int8" : "fp32"; }
  const char* decode_mode() const { return opts_.decode_int8 ? "int8" : "fp32"; }
  int threads() const { return pool_->size(); }
  std::atomic<bool> cancel{false};

 private:
  struct Layer {
    const uint16_t *q_w, *k_w, *v_w, *o_w;
    const uint8_t *mlp1_blocks, *mlp1_scales, *mlp2_blocks, *mlp2_scales;
    std::vector<float> attn_norm, q_b, k_b, v_b, o_b, sinks, mlp_norm, router_w, router_b, mlp1_b, mlp2_b;
    std::vector<float> k_cache, v_cache;  // [capacity][n_kv_heads * head_dim]
    Q8Dense q_q8, k_q8, v_q8, o_q8;       // int8 copies of the projections (prefill 'int8' only)
  };
  const uint8_t* ptr(const TensorLoc& t) const;
  std::vector<float> to_f32(const TensorLoc& t, size_t n) const;
  void ensure_capacity(size_t n);
  // Activations of one forward chunk (T tokens), reused across layers.
  struct Work {
    std::vector<float> x, xn, tmp, q, k, v, att;
  };
  // Scratch of the expert phase and the int8 quantized inputs. Kept across calls and only ever grown: a
  // 128-token chunk needs ~45 MB, and allocating it per layer cost ~8,000 page faults per layer (each zeroed
  // on first touch, serialized on the mm lock) — ~10 % of a prefill's CPU time went to the kernel.
  struct Scratch {
    std::vector<float> gx, h1, a, as, h2;
    std::vector<uint16_t> gx16, as16, xb;
    std::vector<uint8_t> gxq, asq, xq;
  };
  // Tokens routed to each expert in one layer, grouped so each expert's weights are read once per chunk.
  struct Routing {
    std::vector<std::vector<std::pair<int, float>>> routed;  // expert -> (token, weight)
    std::vector<int> active, offset;                         // experts with tokens; row offset of each expert
    int rows = 0;                                            // total (token, expert) pairs
  };
  void forward_chunk(const int32_t* tokens, int T, int pos0, bool all_logits, float* logits_out);
  void attention_block(Layer& L, bool sliding, int T, int pos0, Work& w);
  void route(const Layer& L, int T, Work& w, Routing& r);
  void experts_block(const Layer& L, int T, const Routing& r, Work& w);
  // int8 activations for the MXFP4 experts of a T-token chunk (q/k/v/o too when T > 1).
  bool use_int8(int T) const { return T > 1 ? opts_.prefill_int8 : opts_.decode_int8; }
  void matmul_bf16(const uint16_t* W, int rows, int K, const float* X, int T, float* Y, int ldy);
  // int8 prefill: quantizes X (T rows of K) once and multiplies by each of the int8 matrices.
  void matmul_q8(const float* X, int T, int K, std::initializer_list<std::pair<const Q8Dense*, float*>> mats);
  // Like matmul_bf16; uses bf16 activations (converted from X) when the bf16 prefill path is on and T > 1.
  void matmul_dense(const uint16_t* W, int rows, int K, const float* X, int T, float* Y, int ldy);
  bool use_bf16(int T) const { return bf16k_ != nullptr && T > 1; }
  void rope(float* v, int n_heads, int pos) const;

  Config cfg_;
  Options opts_;
  std::vector<std::unique_ptr<MappedFile>> files_;
  const uint16_t *embed_, *unembed_;
  std::vector<float> norm_;
  std::vector<Layer> layers_;
  std::vector<float> inv_freq_;
  float concentration_ = 1.0f;
  size_t capacity_ = 0;
  std::vector<int32_t> cached_;
  Work work_;
  Scratch scratch_;
  const KernelSet* kernels_;
  const Bf16ActKernels* bf16k_ = nullptr;
  std::unique_ptr<ThreadPool> pool_;
};

}  // namespace harmonia
