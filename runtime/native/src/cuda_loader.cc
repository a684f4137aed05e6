// Loads libcuda from a path chosen by TypeScript (runtime/cuda/library_search.ts) and binds the
// driver functions; also device queries and primary contexts.
#include <string>
#include <vector>

#include "common.h"
#include "cuda_state.h"
#include "dynlib.h"

namespace kiln {

CudaDriverApi g_cu{};
static void* g_cuLib = nullptr;

const CudaDriverApi& Driver(Napi::Env env) {
  if (g_cuLib == nullptr) throw Napi::Error::New(env, "the CUDA driver library is not loaded (call cudaLoad first)");
  return g_cu;
}

void ThrowCuda(Napi::Env env, const char* call, CUresult code) {
  const char* name = nullptr;
  const char* text = nullptr;
  if (g_cu.cuGetErrorName == nullptr || g_cu.cuGetErrorName(code, &name) != CUDA_SUCCESS) name = nullptr;
  if (g_cu.cuGetErrorString == nullptr || g_cu.cuGetErrorString(code, &text) != CUDA_SUCCESS) text = nullptr;
  std::string msg = std::string(call) + " failed: " + (name ? name : "CUresult") + " (" + std::to_string(code) + ")";
  if (text) msg += std::string(": ") + text;
  Napi::Error err = Napi::Error::New(env, msg);
  err.Set("call", Napi::String::New(env, call));
  err.Set("code", Napi::Number::New(env, code));
  err.Set("codeName", Napi::String::New(env, name ? name : ""));
  throw err;
}

// cudaLoad(path) -> undefined on success, else the reason (dlerror text or missing symbols).
static Napi::Value CudaLoad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (g_cuLib != nullptr) return env.Undefined();
  std::string path = StringArg(info, 0, "a library path");
  std::string error;
  void* lib = OpenLibrary(path, &error);
  if (lib == nullptr) return Napi::String::New(env, error);
  CudaDriverApi api{};
  std::vector<std::string> missing;
  auto bind = [&](auto* slot, std::initializer_list<const char*> names) {
    if (!BindSymbol(lib, slot, names)) missing.push_back(*names.begin());
  };
  bind(&api.cuGetErrorName, {"cuGetErrorName"});
  bind(&api.cuGetErrorString, {"cuGetErrorString"});
  bind(&api.cuInit, {"cuInit"});
  bind(&api.cuDriverGetVersion, {"cuDriverGetVersion"});
  bind(&api.cuDeviceGet, {"cuDeviceGet"});
  bind(&api.cuDeviceGetCount, {"cuDeviceGetCount"});
  bind(&api.cuDeviceGetName, {"cuDeviceGetName"});
  bind(&api.cuDeviceTotalMem, {"cuDeviceTotalMem_v2"});
  bind(&api.cuDeviceGetAttribute, {"cuDeviceGetAttribute"});
  bind(&api.cuDevicePrimaryCtxRetain, {"cuDevicePrimaryCtxRetain"});
  bind(&api.cuDevicePrimaryCtxRelease, {"cuDevicePrimaryCtxRelease_v2", "cuDevicePrimaryCtxRelease"});
  bind(&api.cuCtxSetCurrent, {"cuCtxSetCurrent"});
  bind(&api.cuCtxSynchronize, {"cuCtxSynchronize"});
  bind(&api.cuMemGetInfo, {"cuMemGetInfo_v2"});
  bind(&api.cuMemAlloc, {"cuMemAlloc_v2"});
  bind(&api.cuMemFree, {"cuMemFree_v2"});
  bind(&api.cuMemcpyHtoD, {"cuMemcpyHtoD_v2"});
  bind(&api.cuMemcpyDtoH, {"cuMemcpyDtoH_v2"});
  bind(&api.cuMemcpyDtoD, {"cuMemcpyDtoD_v2"});
  bind(&api.cuMemcpyHtoDAsync, {"cuMemcpyHtoDAsync_v2"});
  bind(&api.cuMemcpyDtoHAsync, {"cuMemcpyDtoHAsync_v2"});
  bind(&api.cuMemcpyDtoDAsync, {"cuMemcpyDtoDAsync_v2"});
  bind(&api.cuMemsetD8, {"cuMemsetD8_v2"});
  bind(&api.cuMemsetD8Async, {"cuMemsetD8Async"});
  bind(&api.cuStreamCreate, {"cuStreamCreate"});
  bind(&api.cuStreamDestroy, {"cuStreamDestroy_v2"});
  bind(&api.cuStreamSynchronize, {"cuStreamSynchronize"});
  bind(&api.cuModuleLoadData, {"cuModuleLoadData"});
  bind(&api.cuModuleUnload, {"cuModuleUnload"});
  bind(&api.cuModuleGetFunction, {"cuModuleGetFunction"});
  bind(&api.cuFuncGetAttribute, {"cuFuncGetAttribute"});
  bind(&api.cuFuncSetAttribute, {"cuFuncSetAttribute"});
  bind(&api.cuLaunchKernel, {"cuLaunchKernel"});
  bind(&api.cuEventCreate, {"cuEventCreate"});
  bind(&api.cuEventDestroy, {"cuEventDestroy_v2"});
  bind(&api.cuEventRecord, {"cuEventRecord"});
  bind(&api.cuEventSynchronize, {"cuEventSynchronize"});
  // _v2 (12.8+) and the original have the same signature; older drivers have only the latter.
  bind(&api.cuEventElapsedTime, {"cuEventElapsedTime_v2", "cuEventElapsedTime"});
  bind(&api.cuStreamBeginCapture, {"cuStreamBeginCapture_v2"});
  bind(&api.cuStreamEndCapture, {"cuStreamEndCapture"});
  bind(&api.cuGraphInstantiate, {"cuGraphInstantiateWithFlags"});
  bind(&api.cuGraphLaunch, {"cuGraphLaunch"});
  bind(&api.cuGraphExecDestroy, {"cuGraphExecDestroy"});
  bind(&api.cuGraphDestroy, {"cuGraphDestroy"});
  if (!missing.empty()) {
    dlclose(lib);
    std::string m = path + " lacks ";
    for (size_t i = 0; i < missing.size(); i++) m += (i ? ", " : "") + missing[i];
    return Napi::String::New(env, m + " (driver older than CUDA 11.4?)");
  }
  g_cu = api;
  g_cuLib = lib;
  return env.Undefined();
}

static Napi::Value CudaLoaded(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), g_cuLib != nullptr);
}

static Napi::Value CuInit(const Napi::CallbackInfo& info) {
  CheckCuda(info.Env(), "cuInit", Driver(info.Env()).cuInit(0));
  return info.Env().Undefined();
}

static Napi::Value CuDriverGetVersion(const Napi::CallbackInfo& info) {
  int v = 0;
  CheckCuda(info.Env(), "cuDriverGetVersion", Driver(info.Env()).cuDriverGetVersion(&v));
  return Napi::Number::New(info.Env(), v);
}

static Napi::Value CuDeviceGetCount(const Napi::CallbackInfo& info) {
  int n = 0;
  CheckCuda(info.Env(), "cuDeviceGetCount", Driver(info.Env()).cuDeviceGetCount(&n));
  return Napi::Number::New(info.Env(), n);
}

static Napi::Value CuDeviceGet(const Napi::CallbackInfo& info) {
  CUdevice d = 0;
  CheckCuda(info.Env(), "cuDeviceGet", Driver(info.Env()).cuDeviceGet(&d, IntArg(info, 0, "an ordinal")));
  return Napi::Number::New(info.Env(), d);
}

static Napi::Value CuDeviceGetName(const Napi::CallbackInfo& info) {
  char name[256] = {0};
  CheckCuda(info.Env(), "cuDeviceGetName",
            Driver(info.Env()).cuDeviceGetName(name, sizeof(name) - 1, IntArg(info, 0, "a device")));
  return Napi::String::New(info.Env(), name);
}

static Napi::Value CuDeviceTotalMem(const Napi::CallbackInfo& info) {
  size_t bytes = 0;
  CheckCuda(info.Env(), "cuDeviceTotalMem_v2", Driver(info.Env()).cuDeviceTotalMem(&bytes, IntArg(info, 0, "a device")));
  return Napi::Number::New(info.Env(), static_cast<double>(bytes));
}

static Napi::Value CuDeviceGetAttribute(const Napi::CallbackInfo& info) {
  int v = 0;
  CheckCuda(info.Env(), "cuDeviceGetAttribute",
            Driver(info.Env()).cuDeviceGetAttribute(&v, IntArg(info, 0, "an attribute"), IntArg(info, 1, "a device")));
  return Napi::Number::New(info.Env(), v);
}

static Napi::Value CuDevicePrimaryCtxRetain(const Napi::CallbackInfo& info) {
  CUcontext ctx = nullptr;
  CheckCuda(info.Env(), "cuDevicePrimaryCtxRetain",
            Driver(info.Env()).cuDevicePrimaryCtxRetain(&ctx, IntArg(info, 0, "a device")));
  return HandleValue(info.Env(), ctx);
}

static Napi::Value CuDevicePrimaryCtxRelease(const Napi::CallbackInfo& info) {
  CheckCuda(info.Env(), "cuDevicePrimaryCtxRelease_v2",
            Driver(info.Env()).cuDevicePrimaryCtxRelease(IntArg(info, 0, "a device")));
  return info.Env().Undefined();
}

static Napi::Value CuCtxSetCurrent(const Napi::CallbackInfo& info) {
  CheckCuda(info.Env(), "cuCtxSetCurrent",
            Driver(info.Env()).cuCtxSetCurrent(HandleArg<CUcontext>(info, 0, "a context handle")));
  return info.Env().Undefined();
}

static Napi::Value CuCtxSynchronize(const Napi::CallbackInfo& info) {
  CheckCuda(info.Env(), "cuCtxSynchronize", Driver(info.Env()).cuCtxSynchronize());
  return info.Env().Undefined();
}

void RegisterCudaLoader(Napi::Env env, Napi::Object exports) {
  exports.Set("cudaLoad", Napi::Function::New(env, CudaLoad));
  exports.Set("cudaLoaded", Napi::Function::New(env, CudaLoaded));
  exports.Set("cuInit", Napi::Function::New(env, CuInit));
  exports.Set("cuDriverGetVersion", Napi::Function::New(env, CuDriverGetVersion));
  exports.Set("cuDeviceGetCount", Napi::Function::New(env, CuDeviceGetCount));
  exports.Set("cuDeviceGet", Napi::Function::New(env, CuDeviceGet));
  exports.Set("cuDeviceGetName", Napi::Function::New(env, CuDeviceGetName));
  exports.Set("cuDeviceTotalMem", Napi::Function::New(env, CuDeviceTotalMem));
  exports.Set("cuDeviceGetAttribute", Napi::Function::New(env, CuDeviceGetAttribute));
  exports.Set("cuDevicePrimaryCtxRetain", Napi::Function::New(env, CuDevicePrimaryCtxRetain));
  exports.Set("cuDevicePrimaryCtxRelease", Napi::Function::New(env, CuDevicePrimaryCtxRelease));
  exports.Set("cuCtxSetCurrent", Napi::Function::New(env, CuCtxSetCurrent));
  exports.Set("cuCtxSynchronize", Napi::Function::New(env, CuCtxSynchronize));
}

}  // namespace kiln
