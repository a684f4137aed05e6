{
  "targets": [
    {
      "target_name": "kiln_native",
      "sources": [
        "src/addon.cc",
        "src/cuda_loader.cc",
        "src/cuda_memory.cc",
        "src/cuda_exec.cc",
        "src/nvrtc.cc",
        "src/cpu_lib.cc"
      ],
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
      "defines": ["NAPI_VERSION=8"],
      "cflags_cc": ["-std=c++17", "-O2", "-Wall"],
      "libraries": ["-Wl,--no-as-needed", "-l:libdl.so.2", "-Wl,--as-needed"]
    }
  ]
}
