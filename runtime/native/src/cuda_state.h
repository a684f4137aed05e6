// The loaded driver and the error path every driver binding shares.
#pragma once

#include <napi.h>

#include "cuda_api.h"

namespace kiln {

extern CudaDriverApi g_cu;

// Throws unless the driver library was loaded (by cudaLoad from TypeScript).
const CudaDriverApi& Driver(Napi::Env env);

// Throws an Error naming the call, the CUresult and its name; the error carries `call`,
// `code` and `codeName` (empty when the driver does not know the code) for TypeScript.
[[noreturn]] void ThrowCuda(Napi::Env env, const char* call, CUresult code);

inline void CheckCuda(Napi::Env env, const char* call, CUresult code) {
  if (code != CUDA_SUCCESS) ThrowCuda(env, call, code);
}

void RegisterCudaLoader(Napi::Env env, Napi::Object exports);
void RegisterCudaMemory(Napi::Env env, Napi::Object exports);
void RegisterCudaExec(Napi::Env env, Napi::Object exports);

}  // namespace kiln
