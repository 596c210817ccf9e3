// N-API surface: Model (load), evaluate (logits), generate (streamed sampling). All compute runs on libuv
// worker threads; JavaScript only receives results and token batches.
#include <napi.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <random>
#include <stdexcept>

#include "model.h"

using namespace harmonia;

namespace harmonia {
double measure_read_bandwidth(size_t bytes, int threads, int reps);
}

namespace {

int get_int(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (!v.IsNumber()) throw Napi::TypeError::New(o.Env(), std::string("config.") + key + " must be a number");
  return v.As<Napi::Number>().Int32Value();
}
double get_double(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (!v.IsNumber()) throw Napi::TypeError::New(o.Env(), std::string("config.") + key + " must be a number");
  return v.As<Napi::Number>().DoubleValue();
}

TensorLoc get_loc(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (!v.IsObject()) throw Napi::TypeError::New(o.Env(), std::string("missing tensor ") + key);
  Napi::Object t = v.As<Napi::Object>();
  TensorLoc loc;
  loc.file = t.Get("file").As<Napi::Number>().Int32Value();
  loc.offset = static_cast<uint64_t>(t.Get("offset").As<Napi::Number>().Int64Value());
  loc.nbytes = static_cast<uint64_t>(t.Get("nbytes").As<Napi::Number>().Int64Value());
  const std::string dt = t.Get("dtype").As<Napi::String>().Utf8Value();
  if (dt == "BF16") loc.dtype = DType::BF16;
  else if (dt == "F32") loc.dtype = DType::F32;
  else if (dt == "U8") loc.dtype = DType::U8;
  else throw Napi::TypeError::New(o.Env(), "unsupported dtype " + dt + " for tensor " + key);
  return loc;
}

std::vector<int32_t> to_vec(const Napi::Value& v) {
  if (!v.IsTypedArray()) throw Napi::TypeError::New(v.Env(), "tokens must be an Int32Array");
  Napi::Int32Array a = v.As<Napi::Int32Array>();
  return std::vector<int32_t>(a.Data(), a.Data() + a.ElementLength());
}

struct Shared {
  std::unique_ptr<Model> model;
  std::atomic<bool> busy{false};
};

class Busy {
 public:
  explicit Busy(Shared& s) : s_(s) {}
  ~Busy() { s_.busy.store(false); }

 private:
  Shared& s_;
};

class EvaluateWorker : public Napi::AsyncWorker {
 public:
  EvaluateWorker(Napi::Env env, std::shared_ptr<Shared> s, std::vector<int32_t> tokens, bool all)
      : Napi::AsyncWorker(env), s_(std::move(s)), tokens_(std::move(tokens)), all_(all), deferred_(env) {}
  Napi::Promise promise() { return deferred_.Promise(); }

  void Execute() override {
    Busy guard(*s_);
    try {
      first_ = s_->model->evaluate(tokens_, all_, logits_);
    } catch (const std::exception& e) {
      SetError(e.what());
    }
  }
  void OnOK() override {
    Napi::Env env = Env();
    Napi::Float32Array arr = Napi::Float32Array::New(env, logits_.size());
    std::copy(logits_.begin(), logits_.end(), arr.Data());
    Napi::Object r = Napi::Object::New(env);
    r.Set("logits", arr);
    r.Set("first", Napi::Number::New(env, first_));
    deferred_.Resolve(r);
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  std::shared_ptr<Shared> s_;
  std::vector<int32_t> tokens_;
  bool all_;
  Napi::Promise::Deferred deferred_;
  std::vector<float> logits_;
  int first_ = 0;
};

class GenerateWorker : public Napi::AsyncProgressQueueWorker<int32_t> {
 public:
  GenerateWorker(Napi::Function& cb, std::shared_ptr<Shared> s, std::vector<int32_t> prompt, int max_tokens,
                 SampleParams params, std::vector<int32_t> stop)
      : Napi::AsyncProgressQueueWorker<int32_t>(cb),
        s_(std::move(s)),
        prompt_(std::move(prompt)),
        max_tokens_(max_tokens),
        params_(params),
        stop_(std::move(stop)),
        deferred_(cb.Env()) {}
  Napi::Promise promise() { return deferred_.Promise(); }

  void Execute(const ExecutionProgress& progress) override {
    Busy guard(*s_);
    Model& m = *s_->model;
    std::mt19937_64 rng(params_.has_seed ? params_.seed : std::random_device{}());
    std::vector<float> logits;
    try {
      reused_ = m.evaluate(prompt_, false, logits);
      finish_ = "length";
      for (int i = 0; i < max_tokens_; i++) {
        if (m.cancel.load()) throw std::runtime_error("cancelled");
        const int32_t tok = m.sample(logits.data(), params_, rng);
        out_.push_back(tok);
        progress.Send(&tok, 1);
        if (std::find(stop_.begin(), stop_.end(), tok) != stop_.end()) {
          finish_ = "stop";
          break;
        }
        if (i + 1 == max_tokens_) break;
        m.append({tok}, false, logits);
      }
    } catch (const std::exception& e) {
      if (std::string(e.what()) == "cancelled") finish_ = "abort";
      else SetError(e.what());
    }
  }
  void OnProgress(const int32_t* data, size_t count) override {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    Napi::Int32Array arr = Napi::Int32Array::New(env, count);
    std::copy(data, data + count, arr.Data());
    Callback().Call({arr});
  }
  void OnOK() override {
    Napi::Env env = Env();
    Napi::Int32Array arr = Napi::Int32Array::New(env, out_.size());
    std::copy(out_.begin(), out_.end(), arr.Data());
    Napi::Object r = Napi::Object::New(env);
    r.Set("tokens", arr);
    r.Set("finishReason", finish_);
    r.Set("reused", Napi::Number::New(env, reused_));
    deferred_.Resolve(r);
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  std::shared_ptr<Shared> s_;
  std::vector<int32_t> prompt_;
  int max_tokens_;
  SampleParams params_;
  std::vector<int32_t> stop_;
  Napi::Promise::Deferred deferred_;
  std::vector<int32_t> out_;
  std::string finish_ = "length";
  int reused_ = 0;
};

class ModelWrap : public Napi::ObjectWrap<ModelWrap> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "Model",
                       {InstanceMethod("evaluate", &ModelWrap::Evaluate),
                        InstanceMethod("generate", &ModelWrap::Generate),
                        InstanceMethod("cancel", &ModelWrap::Cancel), InstanceMethod("reset", &ModelWrap::Reset),
                        InstanceMethod("info", &ModelWrap::Info),
                        InstanceMethod("close", &ModelWrap::Close)});
  }

  explicit ModelWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ModelWrap>(info) {
    Napi::Env env = info.Env();
    if (!info[0].IsObject()) throw Napi::TypeError::New(env, "Model(spec): spec must be an object");
    Napi::Object spec = info[0].As<Napi::Object>();
    Napi::Object c = spec.Get("config").As<Napi::Object>();
    Config cfg;
    cfg.n_layers = get_int(c, "numLayers");
    cfg.n_experts = get_int(c, "numExperts");
    cfg.top_k = get_int(c, "expertsPerToken");
    cfg.vocab = get_int(c, "vocabSize");
    cfg.hidden = get_int(c, "hiddenSize");
    cfg.intermediate = get_int(c, "intermediateSize");
    cfg.head_dim = get_int(c, "headDim");
    cfg.n_heads = get_int(c, "numHeads");
    cfg.n_kv_heads = get_int(c, "numKvHeads");
    cfg.sliding_window = get_int(c, "slidingWindow");
    cfg.initial_context = get_int(c, "initialContextLength");
    cfg.swiglu_limit = get_double(c, "swigluLimit");
    cfg.swiglu_alpha = get_double(c, "swigluAlpha");
    cfg.rope_theta = get_double(c, "ropeTheta");
    cfg.rope_factor = get_double(c, "ropeScalingFactor");
    cfg.rope_ntk_alpha = get_double(c, "ropeNtkAlpha");
    cfg.rope_ntk_beta = get_double(c, "ropeNtkBeta");
    cfg.rms_eps = get_double(c, "rmsNormEps");
    Napi::Array sl = c.Get("layerSliding").As<Napi::Array>();
    for (uint32_t i = 0; i < sl.Length(); i++) cfg.layer_sliding.push_back(sl.Get(i).ToBoolean().Value());
    if (static_cast<int>(cfg.layer_sliding.size()) != cfg.n_layers)
      throw Napi::TypeError::New(env, "layerSliding must have one entry per layer");
    if (cfg.head_dim > 512 || cfg.hidden % 32 || cfg.intermediate % 32 || cfg.n_heads % cfg.n_kv_heads ||
        cfg.top_k > cfg.n_experts)
      throw Napi::TypeError::New(env, "unsupported model dimensions");

    ModelLocs locs;
    Napi::Array files = spec.Get("files").As<Napi::Array>();
    for (uint32_t i = 0; i < files.Length(); i++) locs.files.push_back(files.Get(i).As<Napi::String>().Utf8Value());
    Napi::Object t = spec.Get("tensors").As<Napi::Object>();
    locs.embed = get_loc(t, "embed");
    locs.norm = get_loc(t, "norm");
    locs.unembed = get_loc(t, "unembed");
    Napi::Array layers = t.Get("layers").As<Napi::Array>();
    if (static_cast<int>(layers.Length()) != cfg.n_layers) throw Napi::TypeError::New(env, "layer count mismatch");
    for (uint32_t i = 0; i < layers.Length(); i++) {
      Napi::Object o = layers.Get(i).As<Napi::Object>();
      LayerLocs L;
      L.attn_norm = get_loc(o, "attnNorm");
      L.q_w = get_loc(o, "qW");
      L.q_b = get_loc(o, "qB");
      L.k_w = get_loc(o, "kW");
      L.k_b = get_loc(o, "kB");
      L.v_w = get_loc(o, "vW");
      L.v_b = get_loc(o, "vB");
      L.o_w = get_loc(o, "oW");
      L.o_b = get_loc(o, "oB");
      L.sinks = get_loc(o, "sinks");
      L.mlp_norm = get_loc(o, "mlpNorm");
      L.router_w = get_loc(o, "routerW");
      L.router_b = get_loc(o, "routerB");
      L.mlp1_blocks = get_loc(o, "mlp1Blocks");
      L.mlp1_scales = get_loc(o, "mlp1Scales");
      L.mlp1_bias = get_loc(o, "mlp1Bias");
      L.mlp2_blocks = get_loc(o, "mlp2Blocks");
      L.mlp2_scales = get_loc(o, "mlp2Scales");
      L.mlp2_bias = get_loc(o, "mlp2Bias");
      locs.layers.push_back(L);
    }
    Options opts;
    if (spec.Get("options").IsObject()) {
      Napi::Object o = spec.Get("options").As<Napi::Object>();
      if (o.Get("threads").IsNumber()) opts.threads = o.Get("threads").As<Napi::Number>().Int32Value();
      if (o.Get("pin").IsBoolean()) opts.pin = o.Get("pin").As<Napi::Boolean>().Value();
      if (o.Get("kernels").IsString()) opts.kernels = o.Get("kernels").As<Napi::String>().Utf8Value();
      if (o.Get("prefill").IsString()) {
        const std::string mode = o.Get("prefill").As<Napi::String>().Utf8Value();
        opts.prefill_bf16 = mode == "bf16";
        opts.prefill_int8 = mode == "int8";
      }
      if (o.Get("decode").IsString()) opts.decode_int8 = o.Get("decode").As<Napi::String>().Utf8Value() == "int8";
      if (o.Get("populate").IsBoolean()) opts.populate = o.Get("populate").As<Napi::Boolean>().Value();
      if (o.Get("weights").IsString()) opts.copy_weights = o.Get("weights").As<Napi::String>().Utf8Value() == "copy";
      if (o.Get("maxBatch").IsNumber()) opts.max_batch = o.Get("maxBatch").As<Napi::Number>().Int32Value();
      if (o.Get("yarn").IsString())
        opts.yarn = o.Get("yarn").As<Napi::String>().Utf8Value() == "llama.cpp" ? YarnMode::LlamaCpp
                                                                                 : YarnMode::Reference;
    }
    s_ = std::make_shared<Shared>();
    try {
      s_->model = std::make_unique<Model>(cfg, locs, opts);
    } catch (const std::exception& e) {
      throw Napi::Error::New(env, e.what());
    }
  }

 private:
  void acquire(Napi::Env env) {
    if (!s_->model) throw Napi::Error::New(env, "the model is closed");
    bool expected = false;
    if (!s_->busy.compare_exchange_strong(expected, true))
      throw Napi::Error::New(env, "the model is busy with another call");
    s_->model->cancel.store(false);
  }

  Napi::Value Evaluate(const Napi::CallbackInfo& info) {
    std::vector<int32_t> tokens = to_vec(info[0]);
    const bool all = info[1].ToBoolean().Value();
    acquire(info.Env());
    auto* w = new EvaluateWorker(info.Env(), s_, std::move(tokens), all);
    Napi::Promise p = w->promise();
    w->Queue();
    return p;
  }

  Napi::Value Generate(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::vector<int32_t> prompt = to_vec(info[0]);
    Napi::Object o = info[1].As<Napi::Object>();
    Napi::Function cb = info[2].As<Napi::Function>();
    SampleParams p;
    if (o.Get("temperature").IsNumber()) p.temperature = o.Get("temperature").As<Napi::Number>().FloatValue();
    if (o.Get("topP").IsNumber()) p.top_p = o.Get("topP").As<Napi::Number>().FloatValue();
    if (o.Get("seed").IsNumber()) {
      p.has_seed = true;
      p.seed = static_cast<uint64_t>(o.Get("seed").As<Napi::Number>().Int64Value());
    }
    const int max_tokens = o.Get("maxTokens").As<Napi::Number>().Int32Value();
    std::vector<int32_t> stop = to_vec(o.Get("stop"));
    acquire(env);
    auto* w = new GenerateWorker(cb, s_, std::move(prompt), max_tokens, p, std::move(stop));
    Napi::Promise promise = w->promise();
    w->Queue();
    return promise;
  }

  Napi::Value Cancel(const Napi::CallbackInfo& info) {
    if (s_->model) s_->model->cancel.store(true);
    return info.Env().Undefined();
  }
  Napi::Value Reset(const Napi::CallbackInfo& info) {
    if (s_->busy.load()) throw Napi::Error::New(info.Env(), "cannot reset while the model is busy");
    if (s_->model) s_->model->reset();
    return info.Env().Undefined();
  }
  // Unmaps the weights now instead of at garbage collection.
  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (s_->busy.load()) throw Napi::Error::New(info.Env(), "cannot close while the model is busy");
    s_->model.reset();
    return info.Env().Undefined();
  }
  Napi::Value Info(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!s_->model) throw Napi::Error::New(env, "the model is closed");
    Napi::Object r = Napi::Object::New(env);
    r.Set("kernels", s_->model->kernel_name());
    r.Set("threads", s_->model->threads());
    r.Set("prefill", s_->model->prefill_mode());
    r.Set("decode", s_->model->decode_mode());
    r.Set("cachedTokens", static_cast<double>(s_->model->cached().size()));
    return r;
  }

  std::shared_ptr<Shared> s_;
};

Napi::Value MeasureBandwidth(const Napi::CallbackInfo& info) {
  const double bytes = info[0].As<Napi::Number>().DoubleValue();
  const int threads = info[1].As<Napi::Number>().Int32Value();
  const int reps = info[2].IsNumber() ? info[2].As<Napi::Number>().Int32Value() : 7;
  return Napi::Number::New(info.Env(), measure_read_bandwidth(static_cast<size_t>(bytes), threads, reps));
}

Napi::Object InitAll(Napi::Env env, Napi::Object exports) {
  exports.Set("Model", ModelWrap::Init(env));
  exports.Set("measureReadBandwidth", Napi::Function::New(env, MeasureBandwidth));
  return exports;
}

}  // namespace

NODE_API_MODULE(harmonia_engine, InitAll)
