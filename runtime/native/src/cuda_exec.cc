// Modules, kernel launches, events and graph capture.
#include <vector>

#include "common.h"
#include "cuda_state.h"

namespace kiln {

// cuModuleLoadData(image: Uint8Array) -> module. PTX must be NUL-terminated (TS ensures it).
static Napi::Value CuModuleLoadData(const Napi::CallbackInfo& info) {
  Bytes image = BytesArg(info, 0, "a CUBIN or PTX image");
  CUmodule m = nullptr;
  CheckCuda(info.Env(), "cuModuleLoadData", Driver(info.Env()).cuModuleLoadData(&m, image.data));
  return HandleValue(info.Env(), m);
}

static Napi::Value CuModuleUnload(const Napi::CallbackInfo& info) {
  CheckCuda(info.Env(), "cuModuleUnload", Driver(info.Env()).cuModuleUnload(HandleArg<CUmodule>(info, 0, "a module")));
  return info.Env().Undefined();
}

static Napi::Value CuModuleGetFunction(const Napi::CallbackInfo& info) {
  CUfunction f = nullptr;
  std::string name = StringArg(info, 1, "a kernel name");
  CUresult r = Driver(info.Env()).cuModuleGetFunction(&f, HandleArg<CUmodule>(info, 0, "a module"), name.c_str());
  if (r != CUDA_SUCCESS) ThrowCuda(info.Env(), ("cuModuleGetFunction(\"" + name + "\")").c_str(), r);
  return HandleValue(info.Env(), f);
}

static Napi::Value CuFuncGetAttribute(const Napi::CallbackInfo& info) {
  int v = 0;
  CheckCuda(info.Env(), "cuFuncGetAttribute",
            Driver(info.Env()).cuFuncGetAttribute(&v, IntArg(info, 0, "an attribute"), HandleArg<CUfunction>(info, 1, "a function")));
  return Napi::Number::New(info.Env(), v);
}

static Napi::Value CuFuncSetAttribute(const Napi::CallbackInfo& info) {
  CheckCuda(info.Env(), "cuFuncSetAttribute",
            Driver(info.Env()).cuFuncSetAttribute(HandleArg<CUfunction>(info, 0, "a function"), IntArg(info, 1, "an attribute"),
                                                  IntArg(info, 2, "a value")));
  return info.Env().Undefined();
}

// cuLaunchKernel(fn, gx, gy, gz, bx, by, bz, sharedBytes, stream, argBytes, argOffsets)
// argBytes holds every parameter's value, packed by TypeScript from the kernel's parameter
// list; argOffsets[i] is where parameter i starts. kernelParams[i] points at it, which is
// exactly what the driver expects (it copies the values before returning).
static Napi::Value CuLaunchKernel(const Napi::CallbackInfo& info) {
  const CudaDriverApi& cu = Driver(info.Env());
  CUfunction f = HandleArg<CUfunction>(info, 0, "a function");
  unsigned dims[6];
  for (size_t i = 0; i < 6; i++) dims[i] = UIntArg(info, 1 + i, "a grid or block dimension");
  unsigned shared = UIntArg(info, 7, "a shared memory byte count");
  CUstream stream = HandleArg<CUstream>(info, 8, "a stream");
  Bytes args = BytesArg(info, 9, "the packed argument bytes");
  if (!info[10].IsTypedArray() || info[10].As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array)
    throw ArgError(info, 10, "a Uint32Array of argument offsets");
  Napi::Uint32Array offsets = info[10].As<Napi::Uint32Array>();
  std::vector<void*> params(offsets.ElementLength());
  for (size_t i = 0; i < params.size(); i++) {
    if (offsets[i] >= args.length) throw Napi::RangeError::New(info.Env(), "argument offset past the packed bytes");
    params[i] = static_cast<uint8_t*>(args.data) + offsets[i];
  }
  CheckCuda(info.Env(), "cuLaunchKernel",
            cu.cuLaunchKernel(f, dims[0], dims[1], dims[2], dims[3], dims[4], dims[5], shared, stream,
                              params.empty() ? nullptr : params.data(), nullptr));
  return info.Env().Undefined();
}

static Napi::Value CuEventCreate(const Napi::CallbackInfo& info) {
  CUevent e = nullptr;
  CheckCuda(info.Env(), "cuEventCreate", Driver(info.Env()).cuEventCreate(&e, UIntArg(info, 0, "event flags")));
  return HandleValue(info.Env(), e);
}

static Napi::Value CuEventDestroy(const Napi::CallbackInfo& info) {
  CheckCuda(info.Env(), "cuEventDestroy_v2", Driver(info.Env()).cuEventDestroy(HandleArg<CUevent>(info, 0, "an event")));
  return info.Env().Undefined();
}

static Napi::Value CuEventRecord(const Napi::CallbackInfo& info) {
  CheckCuda(info.Env(), "cuEventRecord",
            Driver(info.Env()).cuEventRecord(HandleArg<CUevent>(info, 0, "an event"), HandleArg<CUstream>(info, 1, "a stream")));
  return info.Env().Undefined();
}

static Napi::Value CuEventSynchronize(const Napi::CallbackInfo& info) {
  CheckCuda(info.Env(), "cuEventSynchronize", Driver(info.Env()).cuEventSynchronize(HandleArg<CUevent>(info, 0, "an event")));
  return info.Env().Undefined();
}

static Napi::Value CuEventElapsedTime(const Napi::CallbackInfo& info) {
  float ms = 0;
  CheckCuda(info.Env(), "cuEventElapsedTime",
            Driver(info.Env()).cuEventElapsedTime(&ms, HandleArg<CUevent>(info, 0, "an event"), HandleArg<CUevent>(info, 1, "an event")));
  return Napi::Number::New(info.Env(), ms);
}

static Napi::Value CuStreamBeginCapture(const Napi::CallbackInfo& info) {
  CheckCuda(info.Env(), "cuStreamBeginCapture_v2",
            Driver(info.Env()).cuStreamBeginCapture(HandleArg<CUstream>(info, 0, "a stream"), IntArg(info, 1, "a capture mode")));
  return info.Env().Undefined();
}

static Napi::Value CuStreamEndCapture(const Napi::CallbackInfo& info) {
  CUgraph g = nullptr;
  CheckCuda(info.Env(), "cuStreamEndCapture", Driver(info.Env()).cuStreamEndCapture(HandleArg<CUstream>(info, 0, "a stream"), &g));
  return HandleValue(info.Env(), g);
}

static Napi::Value CuGraphInstantiate(const Napi::CallbackInfo& info) {
  CUgraphExec e = nullptr;
  CheckCuda(info.Env(), "cuGraphInstantiateWithFlags",
            Driver(info.Env()).cuGraphInstantiate(&e, HandleArg<CUgraph>(info, 0, "a graph"), 0));
  return HandleValue(info.Env(), e);
}

static Napi::Value CuGraphLaunch(const Napi::CallbackInfo& info) {
  CheckCuda(info.Env(), "cuGraphLaunch",
            Driver(info.Env()).cuGraphLaunch(HandleArg<CUgraphExec>(info, 0, "a graph exec"), HandleArg<CUstream>(info, 1, "a stream")));
  return info.Env().Undefined();
}

static Napi::Value CuGraphExecDestroy(const Napi::CallbackInfo& info) {
  CheckCuda(info.Env(), "cuGraphExecDestroy", Driver(info.Env()).cuGraphExecDestroy(HandleArg<CUgraphExec>(info, 0, "a graph exec")));
  return info.Env().Undefined();
}

static Napi::Value CuGraphDestroy(const Napi::CallbackInfo& info) {
  CheckCuda(info.Env(), "cuGraphDestroy", Driver(info.Env()).cuGraphDestroy(HandleArg<CUgraph>(info, 0, "a graph")));
  return info.Env().Undefined();
}

void RegisterCudaExec(Napi::Env env, Napi::Object exports) {
  exports.Set("cuModuleLoadData", Napi::Function::New(env, CuModuleLoadData));
  exports.Set("cuModuleUnload", Napi::Function::New(env, CuModuleUnload));
  exports.Set("cuModuleGetFunction", Napi::Function::New(env, CuModuleGetFunction));
  exports.Set("cuFuncGetAttribute", Napi::Function::New(env, CuFuncGetAttribute));
  exports.Set("cuFuncSetAttribute", Napi::Function::New(env, CuFuncSetAttribute));
  exports.Set("cuLaunchKernel", Napi::Function::New(env, CuLaunchKernel));
  exports.Set("cuEventCreate", Napi::Function::New(env, CuEventCreate));
  exports.Set("cuEventDestroy", Napi::Function::New(env, CuEventDestroy));
  exports.Set("cuEventRecord", Napi::Function::New(env, CuEventRecord));
  exports.Set("cuEventSynchronize", Napi::Function::New(env, CuEventSynchronize));
  exports.Set("cuEventElapsedTime", Napi::Function::New(env, CuEventElapsedTime));
  exports.Set("cuStreamBeginCapture", Napi::Function::New(env, CuStreamBeginCapture));
  exports.Set("cuStreamEndCapture", Napi::Function::New(env, CuStreamEndCapture));
  exports.Set("cuGraphInstantiate", Napi::Function::New(env, CuGraphInstantiate));
  exports.Set("cuGraphLaunch", Napi::Function::New(env, CuGraphLaunch));
  exports.Set("cuGraphExecDestroy", Napi::Function::New(env, CuGraphExecDestroy));
  exports.Set("cuGraphDestroy", Napi::Function::New(env, CuGraphDestroy));
}

}  // namespace kiln
