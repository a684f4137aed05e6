// CPU kernels: shared libraries built by runtime/cpu (g++/clang++), opened with dlopen and
// called with one convention, that of CUDA's kernelParams:
//   extern "C" void name(void* const* args);
// args[i] is the data pointer of the i-th view passed from JavaScript: an array's own storage,
// or a small buffer holding one scalar. The kernel runs on the calling thread and may fan out
// with OpenMP.
#include <vector>

#include "common.h"
#include "dynlib.h"

namespace kiln {

typedef void (*CpuKernel)(void* const*);

static Napi::Value CpuOpen(const Napi::CallbackInfo& info) {
  std::string path = StringArg(info, 0, "a shared library path");
  std::string error;
  void* h = OpenLibrary(path, &error);
  if (h == nullptr) throw Napi::Error::New(info.Env(), "dlopen(" + path + ") failed: " + error);
  return HandleValue(info.Env(), h);
}

static Napi::Value CpuClose(const Napi::CallbackInfo& info) {
  dlclose(HandleArg<void*>(info, 0, "a library handle"));
  return info.Env().Undefined();
}

static Napi::Value CpuSymbol(const Napi::CallbackInfo& info) {
  void* h = HandleArg<void*>(info, 0, "a library handle");
  std::string name = StringArg(info, 1, "a symbol name");
  dlerror();
  void* p = dlsym(h, name.c_str());
  if (p == nullptr) {
    const char* e = dlerror();
    throw Napi::Error::New(info.Env(), "dlsym(" + name + ") failed: " + (e ? e : "symbol is null"));
  }
  return HandleValue(info.Env(), p);
}

// cpuCall(fn, views: ArrayBufferView[])
static Napi::Value CpuCall(const Napi::CallbackInfo& info) {
  CpuKernel fn = HandleArg<CpuKernel>(info, 0, "a kernel address");
  if (fn == nullptr) throw ArgError(info, 0, "a non-null kernel address");
  if (!info[1].IsArray()) throw ArgError(info, 1, "an array of TypedArrays");
  Napi::Array views = info[1].As<Napi::Array>();
  std::vector<void*> args(views.Length());
  for (uint32_t i = 0; i < views.Length(); i++) args[i] = BytesOf(info, views.Get(i), 1, "an array of TypedArrays").data;
  fn(args.data());
  return info.Env().Undefined();
}

void RegisterCpu(Napi::Env env, Napi::Object exports) {
  exports.Set("cpuOpen", Napi::Function::New(env, CpuOpen));
  exports.Set("cpuClose", Napi::Function::New(env, CpuClose));
  exports.Set("cpuSymbol", Napi::Function::New(env, CpuSymbol));
  exports.Set("cpuCall", Napi::Function::New(env, CpuCall));
}

}  // namespace kiln
