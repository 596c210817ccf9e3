#include "model.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cmath>
#include <cstring>
#include <ctime>
#include <numeric>
#include <stdexcept>

namespace harmonia {

// ---------------------------------------------------------------- files

MappedFile::MappedFile(const std::string& path, bool populate, bool copy) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error("cannot open " + path + ": " + std::strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0) {
    ::close(fd);
    throw std::runtime_error("cannot stat " + path);
  }
  size_ = static_cast<uint64_t>(st.st_size);
  if (size_ > 0 && copy) {
    // Anonymous memory with transparent huge pages (2 MiB): decode streams the weights with one TLB entry per
    // 2 MiB instead of per 4 KiB page, and the hardware prefetchers are not stopped at every 4 KiB boundary.
    void* p = mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
      ::close(fd);
      throw std::runtime_error("cannot allocate " + std::to_string(size_) + " bytes for " + path);
    }
    madvise(p, size_, MADV_HUGEPAGE);
    uint8_t* dst = static_cast<uint8_t*>(p);
    for (uint64_t off = 0; off < size_;) {
      const ssize_t n = ::pread(fd, dst + off, std::min<uint64_t>(size_ - off, 64u << 20), static_cast<off_t>(off));
      if (n <= 0) {
        munmap(p, size_);
        ::close(fd);
        throw std::runtime_error("cannot read " + path + ": " + (n < 0 ? std::strerror(errno) : "unexpected end"));
      }
      off += static_cast<uint64_t>(n);
    }
    mprotect(p, size_, PROT_READ);
    // The file's pages are not needed any more: leave the memory to the copy.
    posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    data_ = dst;
  } else if (size_ > 0) {
    // MAP_POPULATE maps every page up front: otherwise each first touch of an expert's weights during decode
    // takes a page fault (serialized on the mm lock), which costs more than reading the page.
    void* p = mmap(nullptr, size_, PROT_READ, MAP_SHARED | (populate ? MAP_POPULATE : 0), fd, 0);
    if (p == MAP_FAILED) {
      ::close(fd);
      throw std::runtime_error("cannot mmap " + path + ": " + std::strerror(errno));
    }
    // Large read-only weight files: ask for huge pages where the kernel allows (fewer TLB misses).
    madvise(p, size_, MADV_HUGEPAGE);
    data_ = static_cast<const uint8_t*>(p);
  }
  ::close(fd);
}

MappedFile::~MappedFile() {
  if (data_) munmap(const_cast<uint8_t*>(data_), size_);
}

// ---------------------------------------------------------------- loading

const uint8_t* Model::ptr(const TensorLoc& t) const {
  if (t.file < 0 || t.file >= static_cast<int>(files_.size())) throw std::runtime_error("tensor without a file");
  const MappedFile& f = *files_[t.file];
  if (t.offset + t.nbytes > f.size()) throw std::runtime_error("tensor extends past the end of its file");
  return f.data() + t.offset;
}

std::vector<float> Model::to_f32(const TensorLoc& t, size_t n) const {
  const uint8_t* p = ptr(t);
  std::vector<float> out(n);
  if (t.dtype == DType::BF16) {
    if (t.nbytes != n * 2) throw std::runtime_error("bf16 tensor has the wrong size");
    for (size_t i = 0; i < n; i++) {
      uint16_t v;
      std::memcpy(&v, p + 2 * i, 2);
      out[i] = bf16_to_f32(v);
    }
  } else if (t.dtype == DType::F32) {
    if (t.nbytes != n * 4) throw std::runtime_error("f32 tensor has the wrong size");
    std::memcpy(out.data(), p, n * 4);
  } else {
    throw std::runtime_error("unsupported dtype for a small tensor");
  }
  return out;
}

Model::Model(const Config& cfg, const ModelLocs& locs, const Options& opts) : cfg_(cfg), opts_(opts) {
  kernels_ = &select_kernels(opts.kernels.empty() ? nullptr : opts.kernels.c_str());
  if (!opts.kernels.empty() && opts.kernels != kernels_->name)
    throw std::runtime_error("kernels '" + opts.kernels + "' are not supported by this CPU");
  if (opts.prefill_bf16) {
    bf16k_ = select_bf16_act_kernels();
    if (!bf16k_) throw std::runtime_error("bf16 prefill needs a CPU with AVX512_BF16");
  }
  for (const auto& f : locs.files) files_.emplace_back(std::make_unique<MappedFile>(f, opts.populate, opts.copy_weights));
  const size_t H = cfg.hidden, E = cfg.n_experts, I = cfg.intermediate, hd = cfg.head_dim;
  const size_t nq = cfg.n_heads * hd, nkv = cfg.n_kv_heads * hd;
  auto bf16 = [&](const TensorLoc& t, size_t n) {
    if (t.dtype != DType::BF16 || t.nbytes != n * 2) throw std::runtime_error("expected a bf16 matrix");
    return reinterpret_cast<const uint16_t*>(ptr(t));
  };
  embed_ = bf16(locs.embed, cfg.vocab * H);
  unembed_ = bf16(locs.unembed, cfg.vocab * H);
  norm_ = to_f32(locs.norm, H);
  for (int l = 0; l < cfg.n_layers; l++) {
    const LayerLocs& s = locs.layers[l];
    Layer L;
    L.q_w = bf16(s.q_w, nq * H);
    L.k_w = bf16(s.k_w, nkv * H);
    L.v_w = bf16(s.v_w, nkv * H);
    L.o_w = bf16(s.o_w, H * nq);
    L.attn_norm = to_f32(s.attn_norm, H);
    L.q_b = to_f32(s.q_b, nq);
    L.k_b = to_f32(s.k_b, nkv);
    L.v_b = to_f32(s.v_b, nkv);
    L.o_b = to_f32(s.o_b, H);
    L.sinks = to_f32(s.sinks, cfg.n_heads);
    L.mlp_norm = to_f32(s.mlp_norm, H);
    L.router_w = to_f32(s.router_w, E * H);
    L.router_b = to_f32(s.router_b, E);
    L.mlp1_b = to_f32(s.mlp1_bias, E * 2 * I);
    L.mlp2_b = to_f32(s.mlp2_bias, E * H);
    auto u8 = [&](const TensorLoc& t, size_t n) {
      if (t.dtype != DType::U8 || t.nbytes != n) throw std::runtime_error("expected a u8 MXFP4 tensor");
      return ptr(t);
    };
    L.mlp1_blocks = u8(s.mlp1_blocks, E * 2 * I * (H / 32) * 16);
    L.mlp1_scales = u8(s.mlp1_scales, E * 2 * I * (H / 32));
    L.mlp2_blocks = u8(s.mlp2_blocks, E * H * (I / 32) * 16);
    L.mlp2_scales = u8(s.mlp2_scales, E * H * (I / 32));
    if (opts.prefill_int8 && H % 32 == 0 && nq % 32 == 0) {
      build_q8_dense(L.q_w, nq, H, L.q_q8);
      build_q8_dense(L.k_w, nkv, H, L.k_q8);
      build_q8_dense(L.v_w, nkv, H, L.v_q8);
      build_q8_dense(L.o_w, H, nq, L.o_q8);
    }
    layers_.push_back(std::move(L));
  }

  // YaRN (NTK-by-parts) inverse frequencies. Reference mode keeps low/high unrounded (truncate: false);
  // llama.cpp mode floors/ceils them the way ggml_rope_yarn_corr_dims does.
  const int half = cfg.head_dim / 2;
  inv_freq_.resize(half);
  double low = 0, high = 0;
  const bool scaled = cfg.rope_factor > 1.0;
  if (scaled) {
    concentration_ = static_cast<float>(0.1 * std::log(cfg.rope_factor) + 1.0);
    const double two_pi = 2.0 * M_PI;
    low = half * std::log(cfg.initial_context / (cfg.rope_ntk_beta * two_pi)) / std::log(cfg.rope_theta);
    high = half * std::log(cfg.initial_context / (cfg.rope_ntk_alpha * two_pi)) / std::log(cfg.rope_theta);
    if (opts.yarn == YarnMode::LlamaCpp) {
      low = std::max(0.0, std::floor(low));
      high = std::min(static_cast<double>(cfg.head_dim - 1), std::ceil(high));
    }
  }
  for (int i = 0; i < half; i++) {
    const double freq = std::pow(cfg.rope_theta, static_cast<double>(2 * i) / cfg.head_dim);
    const double extrap = 1.0 / freq;
    if (!scaled) {
      inv_freq_[i] = static_cast<float>(extrap);
      continue;
    }
    const double interp = extrap / cfg.rope_factor;
    const double ramp = std::clamp((i - low) / std::max(high - low, 1e-3), 0.0, 1.0);
    inv_freq_[i] = static_cast<float>(interp * ramp + extrap * (1.0 - ramp));
  }
  pool_ = std::make_unique<ThreadPool>(std::max(1, opts.threads), opts.pin);
}

void Model::ensure_capacity(size_t n) {
  if (n <= capacity_) return;
  size_t cap = std::max<size_t>(capacity_ * 2, 256);
  while (cap < n) cap *= 2;
  const size_t nkv = static_cast<size_t>(cfg_.n_kv_heads) * cfg_.head_dim;
  for (auto& L : layers_) {
    L.k_cache.resize(cap * nkv);
    L.v_cache.resize(cap * nkv);
  }
  capacity_ = cap;
}

// ---------------------------------------------------------------- pieces of the forward pass

// At least n elements (grown, never shrunk; contents unspecified).
template <typename T>
static std::vector<T>& grow(std::vector<T>& v, size_t n) {
  if (v.size() < n) v.resize(n);
  return v;
}

void Model::matmul_bf16(const uint16_t* W, int rows, int K, const float* X, int T, float* Y, int ldy) {
  const int threads = pool_->size();
  int chunk = std::max(16, rows / (threads * 8));
  if (T > 8) chunk = std::min(chunk, 64);
  // Decode streams the matrix once: tasks of at most ~8 MB, so the threads finish within a short task of each
  // other (the unembedding would otherwise be 16 tasks of 72 MB, and one thread idles for up to one of them);
  // not much smaller, since each task re-splits the activations.
  if (T == 1) chunk = std::min(chunk, std::max(16, (8 << 20) / (2 * K)));
  const int tasks = (rows + chunk - 1) / chunk;
  pool_->run(tasks, [&](int task) {
    const int r0 = task * chunk, r1 = std::min(rows, r0 + chunk);
    kernels_->matmul_bf16(W, K, X, K, T, Y, ldy, r0, r1);
  });
}

void Model::matmul_q8(const float* X, int T, int K,
                      std::initializer_list<std::pair<const Q8Dense*, float*>> mats) {
  std::vector<uint8_t>& xq = grow(scratch_.xq, q8_bytes(T, K));
  kernels_->quantize_q8(X, T, K, xq.data());
  constexpr int chunk = 32;  // rows per task, a multiple of the kernel's 16-row groups
  std::vector<std::pair<int, int>> tasks;  // (matrix, first row)
  int m = 0;
  for (const auto& [W, Y] : mats) {
    for (int r = 0; r < W->rows; r += chunk) tasks.push_back({m, r});
    m++;
  }
  const auto* list = mats.begin();
  pool_->run(static_cast<int>(tasks.size()), [&](int task) {
    const auto [i, r0] = tasks[task];
    const Q8Dense& W = *list[i].first;
    kernels_->matmul_q8_dense(W, xq.data(), T, list[i].second, W.rows, r0, std::min(W.rows, r0 + chunk));
  });
}

void Model::matmul_dense(const uint16_t* W, int rows, int K, const float* X, int T, float* Y, int ldy) {
  if (!use_bf16(T) || K % 32) return matmul_bf16(W, rows, K, X, T, Y, ldy);
  std::vector<uint16_t>& xb = grow(scratch_.xb, static_cast<size_t>(T) * K);
  to_bf16(X, xb.data(), static_cast<size_t>(T) * K);
  const int chunk = 32;
  const int tasks = (rows + chunk - 1) / chunk;
  pool_->run(tasks, [&](int task) {
    const int r0 = task * chunk, r1 = std::min(rows, r0 + chunk);
    bf16k_->matmul_bf16(W, K, xb.data(), K, T, Y, ldy, r0, r1);
  });
}

static void rmsnorm(const float* x, const float* g, float* out, int n, double eps) {
  double ss = 0;
  for (int i = 0; i < n; i++) ss += static_cast<double>(x[i]) * x[i];
  const float r = static_cast<float>(1.0 / std::sqrt(ss / n + eps));
  for (int i = 0; i < n; i++) out[i] = x[i] * r * g[i];
}

void Model::rope(float* v, int n_heads, int pos) const {
  const int half = cfg_.head_dim / 2;
  float cs[256], sn[256];
  for (int i = 0; i < half; i++) {
    const double angle = static_cast<double>(pos) * inv_freq_[i];
    cs[i] = static_cast<float>(std::cos(angle)) * concentration_;
    sn[i] = static_cast<float>(std::sin(angle)) * concentration_;
  }
  for (int h = 0; h < n_heads; h++) {
    float* x = v + h * cfg_.head_dim;
    for (int i = 0; i < half; i++) {
      const float a = x[i], b = x[i + half];
      x[i] = a * cs[i] - b * sn[i];
      x[i + half] = b * cs[i] + a * sn[i];
    }
  }
}

namespace {
// HARMONIA_ENGINE_PROFILE=N prints where forward time goes (mean over every N forward calls, decode and
// prefill chunks apart) to stderr: wall time, and the process's CPU time (all threads; a busy host steals wall
// time but not CPU time, so the CPU column stays comparable between runs).
struct Profile {
  bool on = std::getenv("HARMONIA_ENGINE_PROFILE") != nullptr;
  int period = on ? std::max(1, std::atoi(std::getenv("HARMONIA_ENGINE_PROFILE"))) : 1;
  double t[2][5] = {}, cpu[2][5] = {};
  int calls[2] = {0, 0};
  int kind = 0;  // 0 decode (one token), 1 prefill chunk
  std::chrono::steady_clock::time_point last;
  double last_cpu = 0;
  static double cpu_ms() {
    timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
  }
  void start(int T) {
    if (!on) return;
    kind = T > 1;
    last = std::chrono::steady_clock::now();
    last_cpu = cpu_ms();
  }
  void lap(int i) {
    if (!on) return;
    auto now = std::chrono::steady_clock::now();
    const double c = cpu_ms();
    t[kind][i] += std::chrono::duration<double, std::milli>(now - last).count();
    cpu[kind][i] += c - last_cpu;
    last = now;
    last_cpu = c;
  }
  void done() {
    if (!on || ++calls[kind] % period) return;
    const double* w = t[kind];
    const double* u = cpu[kind];
    const int n = period;
    std::fprintf(stderr,
                 "[engine profile %s] wall/cpu ms: qkv+o %.2f/%.2f, attention %.2f/%.2f, router %.2f/%.2f, experts "
                 "%.2f/%.2f, lm_head %.2f/%.2f\n",
                 kind ? "prefill" : "decode", w[0] / n, u[0] / n, w[1] / n, u[1] / n, w[2] / n, u[2] / n, w[3] / n,
                 u[3] / n, w[4] / n, u[4] / n);
    for (int i = 0; i < 5; i++) t[kind][i] = cpu[kind][i] = 0;
  }
} profile;
}  // namespace

void Model::forward_chunk(const int32_t* tokens, int T, int pos0, bool all_logits, float* logits_out) {
  const Config& c = cfg_;
  set_flush_denormals();  // the calling (libuv) thread computes too
  profile.start(T);
  const int H = c.hidden, nq = c.n_heads * c.head_dim, nkv = c.n_kv_heads * c.head_dim;
  Work& w = work_;
  for (auto* b : {&w.x, &w.xn, &w.tmp}) grow(*b, static_cast<size_t>(T) * H);
  for (auto* b : {&w.q, &w.att}) grow(*b, static_cast<size_t>(T) * nq);
  for (auto* b : {&w.k, &w.v}) grow(*b, static_cast<size_t>(T) * nkv);
  for (int t = 0; t < T; t++) {
    const uint16_t* row = embed_ + static_cast<size_t>(tokens[t]) * H;
    for (int i = 0; i < H; i++) w.x[static_cast<size_t>(t) * H + i] = bf16_to_f32(row[i]);
  }
  Routing routing;
  for (int l = 0; l < c.n_layers; l++) {
    if (cancel.load(std::memory_order_relaxed)) throw std::runtime_error("cancelled");
    Layer& L = layers_[l];
    attention_block(L, c.layer_sliding[l] && c.sliding_window > 0, T, pos0, w);
    route(L, T, w, routing);
    profile.lap(2);
    experts_block(L, T, routing, w);
    profile.lap(3);
  }

  // ---- unembedding
  const int first = all_logits ? 0 : T - 1;
  const int n_out = T - first;
  for (int t = first; t < T; t++) rmsnorm(&w.x[t * H], norm_.data(), &w.xn[(t - first) * H], H, c.rms_eps);
  matmul_dense(unembed_, c.vocab, H, w.xn.data(), n_out, logits_out, c.vocab);
  profile.lap(4);
  profile.done();
}

// Pre-norm attention with its residual: x += o_proj(attend(rope(q), rope(k), v)) + o_bias.
void Model::attention_block(Layer& L, bool sliding, int T, int pos0, Work& w) {
  const Config& c = cfg_;
  const int H = c.hidden, hd = c.head_dim, nq = c.n_heads * hd, nkv = c.n_kv_heads * hd;
  const int qpk = c.n_heads / c.n_kv_heads;
  for (int t = 0; t < T; t++) rmsnorm(&w.x[t * H], L.attn_norm.data(), &w.xn[t * H], H, c.rms_eps);
  const bool q8 = T > 1 && use_int8(T) && !L.q_q8.wt.empty();
  if (q8) {
    matmul_q8(w.xn.data(), T, H, {{&L.q_q8, w.q.data()}, {&L.k_q8, w.k.data()}, {&L.v_q8, w.v.data()}});
  } else if (use_bf16(T)) {
    matmul_dense(L.q_w, nq, H, w.xn.data(), T, w.q.data(), nq);
    matmul_dense(L.k_w, nkv, H, w.xn.data(), T, w.k.data(), nkv);
    matmul_dense(L.v_w, nkv, H, w.xn.data(), T, w.v.data(), nkv);
  } else {
    // q, k and v in one parallel section: decode pays one fork-join instead of three.
    const int chunk = T > 8 ? 64 : std::max(16, (nq + 2 * nkv) / (pool_->size() * 8));
    const int tq = (nq + chunk - 1) / chunk, tkv = (nkv + chunk - 1) / chunk;
    pool_->run(tq + 2 * tkv, [&](int task) {
      const uint16_t* W = L.q_w;
      float* Y = w.q.data();
      int rows = nq, ldy = nq;
      if (task >= tq) {
        const bool isk = task < tq + tkv;
        task -= isk ? tq : tq + tkv;
        W = isk ? L.k_w : L.v_w;
        Y = isk ? w.k.data() : w.v.data();
        rows = ldy = nkv;
      }
      const int r0 = task * chunk, r1 = std::min(rows, r0 + chunk);
      kernels_->matmul_bf16(W, H, w.xn.data(), H, T, Y, ldy, r0, r1);
    });
  }
  profile.lap(0);
  for (int t = 0; t < T; t++) {
    for (int i = 0; i < nq; i++) w.q[t * nq + i] += L.q_b[i];
    for (int i = 0; i < nkv; i++) {
      w.k[t * nkv + i] += L.k_b[i];
      w.v[t * nkv + i] += L.v_b[i];
    }
    rope(&w.q[t * nq], c.n_heads, pos0 + t);
    rope(&w.k[t * nkv], c.n_kv_heads, pos0 + t);
    std::memcpy(&L.k_cache[static_cast<size_t>(pos0 + t) * nkv], &w.k[t * nkv], nkv * sizeof(float));
    std::memcpy(&L.v_cache[static_cast<size_t>(pos0 + t) * nkv], &w.v[t * nkv], nkv * sizeof(float));
  }
  const float sm_scale = 1.0f / std::sqrt(static_cast<float>(hd));
  pool_->run(T * c.n_kv_heads, [&](int task) {
    const int t = task / c.n_kv_heads, g = task % c.n_kv_heads;
    const int qp = pos0 + t;
    const int start = sliding ? std::max(0, qp - c.sliding_window + 1) : 0;
    const size_t kv0 = static_cast<size_t>(start) * nkv + g * hd;
    kernels_->attend(&w.q[t * nq + g * qpk * hd], qpk, hd, &L.k_cache[kv0], &L.v_cache[kv0], nkv, qp - start + 1,
                     &L.sinks[g * qpk], sm_scale, &w.att[t * nq + g * qpk * hd]);
  });
  profile.lap(1);
  if (q8) matmul_q8(w.att.data(), T, nq, {{&L.o_q8, w.tmp.data()}});
  else matmul_dense(L.o_w, H, nq, w.att.data(), T, w.tmp.data(), H);
  profile.lap(0);
  for (int t = 0; t < T; t++)
    for (int i = 0; i < H; i++) w.x[t * H + i] += w.tmp[t * H + i] + L.o_b[i];
}

// Pre-MLP norm into w.xn, router logits, top-k per token (ties to the lower index), softmax over the k.
void Model::route(const Layer& L, int T, Work& w, Routing& r) {
  const Config& c = cfg_;
  const int H = c.hidden, E = c.n_experts, K4 = c.top_k;
  for (int t = 0; t < T; t++) rmsnorm(&w.x[t * H], L.mlp_norm.data(), &w.xn[t * H], H, c.rms_eps);
  std::vector<float> logits(static_cast<size_t>(T) * E);
  pool_->run(T, [&](int t) {
    float* g = &logits[static_cast<size_t>(t) * E];
    kernels_->dot_rows_f32(L.router_w.data(), H, &w.xn[t * H], E, g);
    for (int e = 0; e < E; e++) g[e] += L.router_b[e];
  });
  r.routed.assign(E, {});
  std::vector<int> idx(E);
  std::vector<float> wt(K4);
  for (int t = 0; t < T; t++) {
    const float* g = &logits[static_cast<size_t>(t) * E];
    std::iota(idx.begin(), idx.end(), 0);
    std::partial_sort(idx.begin(), idx.begin() + K4, idx.end(),
                      [&](int a, int b) { return g[a] > g[b] || (g[a] == g[b] && a < b); });
    float sum = 0.f;
    for (int j = 0; j < K4; j++) sum += (wt[j] = std::exp(g[idx[j]] - g[idx[0]]));
    for (int j = 0; j < K4; j++) r.routed[idx[j]].push_back({t, wt[j] / sum});
  }
  r.active.clear();
  r.offset.assign(E + 1, 0);
  for (int e = 0; e < E; e++) {
    r.offset[e + 1] = r.offset[e] + static_cast<int>(r.routed[e].size());
    if (!r.routed[e].empty()) r.active.push_back(e);
  }
  r.rows = r.offset[E];
}

// The routed experts (mlp1, clamped SwiGLU, mlp2, bias, routing weight) added into the residual w.x. Each
// expert's tokens are gathered (split order) so its weights are read once per chunk for all of them.
void Model::experts_block(const Layer& L, int T, const Routing& rt, Work& w) {
  const Config& c = cfg_;
  const int H = c.hidden, I = c.intermediate, E = c.n_experts;
  const int R = rt.rows;
  const auto& routed = rt.routed;
  const auto& active = rt.active;
  const auto& offset = rt.offset;
  const bool bf = use_bf16(T), q8 = !bf && use_int8(T);
  Scratch& s = scratch_;
  std::vector<float>& gx = grow(s.gx, static_cast<size_t>(R) * H);
  std::vector<float>& h1 = grow(s.h1, static_cast<size_t>(R) * 2 * I);
  std::vector<float>& a = grow(s.a, static_cast<size_t>(R) * I);
  std::vector<float>& as = grow(s.as, static_cast<size_t>(R) * I);
  std::vector<float>& h2 = grow(s.h2, static_cast<size_t>(R) * H);
  std::vector<uint16_t>& gx16 = grow(s.gx16, bf ? static_cast<size_t>(R) * H : 0);
  std::vector<uint16_t>& as16 = grow(s.as16, bf ? static_cast<size_t>(R) * I : 0);
  std::vector<uint8_t>& gxq = grow(s.gxq, q8 ? q8_bytes(R, H) : 0);
  std::vector<uint8_t>& asq = grow(s.asq, q8 ? q8_bytes(R, I) : 0);
  for (int e : active)
    for (size_t j = 0; j < routed[e].size(); j++) {
      const float* src = &w.xn[routed[e][j].first * H];
      if (bf) to_bf16(src, &gx16[static_cast<size_t>(offset[e] + j) * H], H);
      else split_mxfp4_input(src, &gx[static_cast<size_t>(offset[e] + j) * H], H);
    }
  // int8 activations per expert (its own packed tile layout); a few rows (decode) on this thread.
  auto quantize = [&](const float* X, int K, uint8_t* out) {
    auto one = [&](int i) {
      const int e = active[i];
      kernels_->quantize_q8(X + static_cast<size_t>(offset[e]) * K, offset[e + 1] - offset[e], K,
                            out + q8_bytes(offset[e], K));
    };
    if (R <= 8) {
      for (size_t i = 0; i < active.size(); i++) one(static_cast<int>(i));
    } else {
      pool_->run(static_cast<int>(active.size()), one);
    }
  };
  if (q8) quantize(gx.data(), H, gxq.data());

  const float limit = static_cast<float>(c.swiglu_limit), alpha = static_cast<float>(c.swiglu_alpha);
  // SwiGLU of gathered rows j, outputs [i0, i1), and mlp2's input in split order (whole 32-element blocks).
  auto activate = [&](int j, int e, int i0, int i1) {
    const float* hb = &L.mlp1_b[static_cast<size_t>(e) * 2 * I];
    const float* hr = &h1[static_cast<size_t>(j) * 2 * I];
    float* ar = &a[static_cast<size_t>(j) * I];
    kernels_->swiglu(hr + 2 * i0, hb + 2 * i0, i1 - i0, limit, alpha, ar + i0);
    if (bf) to_bf16(ar + i0, &as16[static_cast<size_t>(j) * I + i0], i1 - i0);
    else split_mxfp4_input(ar + i0, &as[static_cast<size_t>(j) * I + i0], i1 - i0);
  };
  // Decode: each mlp1 task applies SwiGLU to the rows it just produced (chunks of 64 rows = 32 outputs), so
  // the activation costs no parallel section of its own.
  const bool fuse = T == 1 && I % 32 == 0;
  auto run_experts = [&](int rows, int K, const uint8_t* blocks, const uint8_t* scales, const float* X,
                         const uint8_t* Xq, float* Y, bool fused) {
    int chunk = R > 8 ? 32 : std::max(16, rows / (pool_->size() * 4));
    if (fused) chunk = (chunk + 63) / 64 * 64;
    const int per = (rows + chunk - 1) / chunk;
    const size_t bpe = static_cast<size_t>(rows) * (K / 32);  // blocks (and scales) per expert
    pool_->run(static_cast<int>(active.size()) * per, [&](int task) {
      const int e = active[task / per];
      const int r0 = (task % per) * chunk, r1 = std::min(rows, r0 + chunk);
      const int n = static_cast<int>(routed[e].size());
      float* Ye = Y + static_cast<size_t>(offset[e]) * rows;
      if (bf) {
        const uint16_t* X16 = (X == gx.data() ? gx16.data() : as16.data()) + static_cast<size_t>(offset[e]) * K;
        bf16k_->matmul_mxfp4(blocks + e * bpe * 16, scales + e * bpe, K, X16, K, n, Ye, rows, r0, r1);
      } else if (q8) {
        kernels_->matmul_mxfp4_q8(blocks + e * bpe * 16, scales + e * bpe, K, Xq + q8_bytes(offset[e], K), n, Ye,
                                  rows, r0, r1);
      } else {
        kernels_->matmul_mxfp4(blocks + e * bpe * 16, scales + e * bpe, K, X + static_cast<size_t>(offset[e]) * K,
                               K, n, Ye, rows, r0, r1);
      }
      if (fused)
        for (int j = offset[e]; j < offset[e + 1]; j++) activate(j, e, r0 / 2, r1 / 2);
    });
  };
  run_experts(2 * I, H, L.mlp1_blocks, L.mlp1_scales, gx.data(), gxq.data(), h1.data(), fuse);
  // Row j of the gathered batch belongs to the expert whose [offset[e], offset[e+1]) holds it.
  std::vector<int> row_expert(R);
  for (int e : active)
    for (int j = offset[e]; j < offset[e + 1]; j++) row_expert[j] = e;
  if (!fuse) {
    const int row_tasks = std::min(R, 4 * pool_->size());
    pool_->run(R > 1 ? row_tasks : 1, [&](int task) {
      for (int j = task; j < R; j += row_tasks) activate(j, row_expert[j], 0, I);
    });
  }
  if (q8) quantize(as.data(), I, asq.data());
  run_experts(H, I, L.mlp2_blocks, L.mlp2_scales, as.data(), asq.data(), h2.data(), false);
  // Each token's experts in routing order (the order the sum was always taken in), tokens in parallel.
  std::vector<std::vector<int>> token_rows(T);
  for (int e : active)
    for (size_t j = 0; j < routed[e].size(); j++) token_rows[routed[e][j].first].push_back(offset[e] + static_cast<int>(j));
  const int tok_tasks = std::min(T, 4 * pool_->size());
  pool_->run(T > 1 ? tok_tasks : 1, [&](int task) {
    for (int t = task; t < T; t += tok_tasks)
      for (int j : token_rows[t]) {
        const int e = row_expert[j];
        const float* b2 = &L.mlp2_b[static_cast<size_t>(e) * H];
        const float wgt = routed[e][j - offset[e]].second;
        const float* hr = &h2[static_cast<size_t>(j) * H];
        for (int i = 0; i < H; i++) w.x[t * H + i] += wgt * (hr[i] + b2[i]);
      }
  });
  (void)E;
}

// ---------------------------------------------------------------- entry points

void Model::append(const std::vector<int32_t>& tokens, bool all_logits, std::vector<float>& logits) {
  for (int32_t t : tokens)
    if (t < 0 || t >= cfg_.vocab) throw std::runtime_error("token id " + std::to_string(t) + " is out of range");
  const size_t n = tokens.size();
  const size_t V = cfg_.vocab;
  logits.assign(all_logits ? n * V : V, 0.f);
  ensure_capacity(cached_.size() + n);
  const size_t chunk = std::max(1, opts_.max_batch);
  for (size_t s = 0; s < n; s += chunk) {
    const int T = static_cast<int>(std::min(chunk, n - s));
    const bool last_chunk = s + T == n;
    const int pos0 = static_cast<int>(cached_.size());
    if (all_logits) {
      forward_chunk(&tokens[s], T, pos0, true, &logits[s * V]);
    } else {
      forward_chunk(&tokens[s], T, pos0, false, logits.data());
      (void)last_chunk;
    }
    cached_.insert(cached_.end(), tokens.begin() + s, tokens.begin() + s + T);
  }
}

int Model::evaluate(const std::vector<int32_t>& tokens, bool all_logits, std::vector<float>& logits) {
  if (tokens.empty()) throw std::runtime_error("no tokens to evaluate");
  size_t lcp = 0;
  while (lcp < cached_.size() && lcp < tokens.size() && cached_[lcp] == tokens[lcp]) lcp++;
  if (lcp == tokens.size()) lcp--;  // the last token must run to produce logits
  cached_.resize(lcp);
  std::vector<int32_t> rest(tokens.begin() + lcp, tokens.end());
  try {
    append(rest, all_logits, logits);
  } catch (...) {
    // Whatever was appended is still consistent with the cache; nothing else to undo.
    throw;
  }
  return static_cast<int>(lcp);
}

int Model::sample(const float* logits, const SampleParams& p, std::mt19937_64& rng) const {
  const int V = cfg_.vocab;
  if (p.temperature <= 0.f) return static_cast<int>(std::max_element(logits, logits + V) - logits);
  const float mx = *std::max_element(logits, logits + V);
  std::vector<float> probs(V);
  double sum = 0;
  for (int i = 0; i < V; i++) sum += (probs[i] = std::exp((logits[i] - mx) / p.temperature));
  std::uniform_real_distribution<double> uni(0.0, 1.0);
  if (p.top_p >= 1.f) {
    double u = uni(rng) * sum;
    for (int i = 0; i < V; i++)
      if ((u -= probs[i]) <= 0) return i;
    return V - 1;
  }
  std::vector<int> idx(V);
  std::iota(idx.begin(), idx.end(), 0);
  auto by_prob = [&](int a, int b) { return probs[a] > probs[b] || (probs[a] == probs[b] && a < b); };
  // Sort only as far as needed to cover top_p of the mass.
  size_t kept = 0;
  double mass = 0;
  for (size_t k : {size_t(64), size_t(1024), static_cast<size_t>(V)}) {
    k = std::min(k, static_cast<size_t>(V));
    std::partial_sort(idx.begin(), idx.begin() + k, idx.end(), by_prob);
    mass = 0;
    for (kept = 0; kept < k; kept++) {
      mass += probs[idx[kept]];
      if (mass >= p.top_p * sum) {
        kept++;
        break;
      }
    }
    if (mass >= p.top_p * sum || k == static_cast<size_t>(V)) break;
  }
  double u = uni(rng) * mass;
  for (size_t j = 0; j < kept; j++)
    if ((u -= probs[idx[j]]) <= 0) return idx[j];
  return idx[kept - 1];
}

}  // namespace harmonia
