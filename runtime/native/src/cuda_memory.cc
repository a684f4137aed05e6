// Device memory, copies and streams. A copy or memset given a stream (a BigInt, 0n being the
// legacy default stream) is enqueued with the Async variant; without one it is synchronous.
// Host buffers are pageable JavaScript memory: the driver stages HtoD copies before returning
// and completes DtoH copies before returning, so the caller may reuse them right away.
#include "common.h"
#include "cuda_state.h"

namespace kiln {

static bool HasStream(const Napi::CallbackInfo& info, size_t i) {
  return info.Length() > i && !info[i].IsUndefined() && !info[i].IsNull();
}

static Napi::Value CuMemGetInfo(const Napi::CallbackInfo& info) {
  size_t freeBytes = 0, total = 0;
  CheckCuda(info.Env(), "cuMemGetInfo_v2", Driver(info.Env()).cuMemGetInfo(&freeBytes, &total));
  Napi::Array r = Napi::Array::New(info.Env(), 2);
  r.Set(0u, Napi::Number::New(info.Env(), static_cast<double>(freeBytes)));
  r.Set(1u, Napi::Number::New(info.Env(), static_cast<double>(total)));
  return r;
}

static Napi::Value CuMemAlloc(const Napi::CallbackInfo& info) {
  CUdeviceptr p = 0;
  CheckCuda(info.Env(), "cuMemAlloc_v2", Driver(info.Env()).cuMemAlloc(&p, SizeArg(info, 0, "a byte count")));
  return Napi::BigInt::New(info.Env(), static_cast<uint64_t>(p));
}

static Napi::Value CuMemFree(const Napi::CallbackInfo& info) {
  CheckCuda(info.Env(), "cuMemFree_v2", Driver(info.Env()).cuMemFree(U64Arg(info, 0, "a device pointer")));
  return info.Env().Undefined();
}

// cuMemcpyHtoD(dst, hostView, stream?)
static Napi::Value CuMemcpyHtoD(const Napi::CallbackInfo& info) {
  const CudaDriverApi& cu = Driver(info.Env());
  CUdeviceptr dst = U64Arg(info, 0, "a device pointer");
  Bytes src = BytesArg(info, 1, "a TypedArray");
  if (HasStream(info, 2))
    CheckCuda(info.Env(), "cuMemcpyHtoDAsync_v2",
              cu.cuMemcpyHtoDAsync(dst, src.data, src.length, HandleArg<CUstream>(info, 2, "a stream")));
  else
    CheckCuda(info.Env(), "cuMemcpyHtoD_v2", cu.cuMemcpyHtoD(dst, src.data, src.length));
  return info.Env().Undefined();
}

// cuMemcpyDtoH(hostView, src, stream?)
static Napi::Value CuMemcpyDtoH(const Napi::CallbackInfo& info) {
  const CudaDriverApi& cu = Driver(info.Env());
  Bytes dst = BytesArg(info, 0, "a TypedArray");
  CUdeviceptr src = U64Arg(info, 1, "a device pointer");
  if (HasStream(info, 2))
    CheckCuda(info.Env(), "cuMemcpyDtoHAsync_v2",
              cu.cuMemcpyDtoHAsync(dst.data, src, dst.length, HandleArg<CUstream>(info, 2, "a stream")));
  else
    CheckCuda(info.Env(), "cuMemcpyDtoH_v2", cu.cuMemcpyDtoH(dst.data, src, dst.length));
  return info.Env().Undefined();
}

// cuMemcpyDtoD(dst, src, bytes, stream?)
static Napi::Value CuMemcpyDtoD(const Napi::CallbackInfo& info) {
  const CudaDriverApi& cu = Driver(info.Env());
  CUdeviceptr dst = U64Arg(info, 0, "a device pointer");
  CUdeviceptr src = U64Arg(info, 1, "a device pointer");
  size_t n = SizeArg(info, 2, "a byte count");
  if (HasStream(info, 3))
    CheckCuda(info.Env(), "cuMemcpyDtoDAsync_v2", cu.cuMemcpyDtoDAsync(dst, src, n, HandleArg<CUstream>(info, 3, "a stream")));
  else
    CheckCuda(info.Env(), "cuMemcpyDtoD_v2", cu.cuMemcpyDtoD(dst, src, n));
  return info.Env().Undefined();
}

// cuMemsetD8(dst, byteValue, count, stream?)
static Napi::Value CuMemsetD8(const Napi::CallbackInfo& info) {
  const CudaDriverApi& cu = Driver(info.Env());
  CUdeviceptr dst = U64Arg(info, 0, "a device pointer");
  unsigned char v = static_cast<unsigned char>(UIntArg(info, 1, "a byte value"));
  size_t n = SizeArg(info, 2, "a byte count");
  if (HasStream(info, 3))
    CheckCuda(info.Env(), "cuMemsetD8Async", cu.cuMemsetD8Async(dst, v, n, HandleArg<CUstream>(info, 3, "a stream")));
  else
    CheckCuda(info.Env(), "cuMemsetD8_v2", cu.cuMemsetD8(dst, v, n));
  return info.Env().Undefined();
}

static Napi::Value CuStreamCreate(const Napi::CallbackInfo& info) {
  CUstream s = nullptr;
  CheckCuda(info.Env(), "cuStreamCreate", Driver(info.Env()).cuStreamCreate(&s, UIntArg(info, 0, "stream flags")));
  return HandleValue(info.Env(), s);
}

static Napi::Value CuStreamDestroy(const Napi::CallbackInfo& info) {
  CheckCuda(info.Env(), "cuStreamDestroy_v2", Driver(info.Env()).cuStreamDestroy(HandleArg<CUstream>(info, 0, "a stream")));
  return info.Env().Undefined();
}

static Napi::Value CuStreamSynchronize(const Napi::CallbackInfo& info) {
  CheckCuda(info.Env(), "cuStreamSynchronize",
            Driver(info.Env()).cuStreamSynchronize(HandleArg<CUstream>(info, 0, "a stream")));
  return info.Env().Undefined();
}

void RegisterCudaMemory(Napi::Env env, Napi::Object exports) {
  exports.Set("cuMemGetInfo", Napi::Function::New(env, CuMemGetInfo));
  exports.Set("cuMemAlloc", Napi::Function::New(env, CuMemAlloc));
  exports.Set("cuMemFree", Napi::Function::New(env, CuMemFree));
  exports.Set("cuMemcpyHtoD", Napi::Function::New(env, CuMemcpyHtoD));
  exports.Set("cuMemcpyDtoH", Napi::Function::New(env, CuMemcpyDtoH));
  exports.Set("cuMemcpyDtoD", Napi::Function::New(env, CuMemcpyDtoD));
  exports.Set("cuMemsetD8", Napi::Function::New(env, CuMemsetD8));
  exports.Set("cuStreamCreate", Napi::Function::New(env, CuStreamCreate));
  exports.Set("cuStreamDestroy", Napi::Function::New(env, CuStreamDestroy));
  exports.Set("cuStreamSynchronize", Napi::Function::New(env, CuStreamSynchronize));
}

}  // namespace kiln
