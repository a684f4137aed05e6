// kiln_native: thin bindings over dlopen'ed libcuda, libnvrtc and compiled CPU kernels.
// Loading this addon never touches CUDA; see runtime/native/loader.ts for the TS side.
#include <napi.h>

#include "cuda_state.h"

namespace kiln {
void RegisterNvrtc(Napi::Env env, Napi::Object exports);
void RegisterCpu(Napi::Env env, Napi::Object exports);
}  // namespace kiln

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  // Bumped whenever a binding's signature changes, so the TS loader can refuse a stale build.
  exports.Set("abiVersion", Napi::Number::New(env, 1));
  kiln::RegisterCudaLoader(env, exports);
  kiln::RegisterCudaMemory(env, exports);
  kiln::RegisterCudaExec(env, exports);
  kiln::RegisterNvrtc(env, exports);
  kiln::RegisterCpu(env, exports);
  return exports;
}

NODE_API_MODULE(kiln_native, Init)
