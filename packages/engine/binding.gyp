{
  "targets": [
    {
      "target_name": "harmonia_engine",
      "sources": [
        "native/addon.cc",
        "native/model.cc",
        "native/kernels_cpu.cc",
        "native/threadpool.cc",
        "native/bandwidth.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=c++17", "-O3", "-fexceptions", "-ffp-contract=fast", "-fno-math-errno", "-Wno-maybe-uninitialized"],
      "libraries": ["-lpthread"]
    }
  ]
}
