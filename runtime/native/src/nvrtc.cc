// NVRTC: loaded from a path chosen by TypeScript; compiles one source to CUBIN or PTX.
#include <string>
#include <vector>

#include "common.h"
#include "cuda_api.h"
#include "dynlib.h"

namespace kiln {

static NvrtcApi g_nv{};
static void* g_nvLib = nullptr;

static const NvrtcApi& Nvrtc(Napi::Env env) {
  if (g_nvLib == nullptr) throw Napi::Error::New(env, "NVRTC is not loaded (call nvrtcLoad first)");
  return g_nv;
}

[[noreturn]] static void ThrowNvrtc(Napi::Env env, const char* call, nvrtcResult code) {
  const char* name = g_nv.nvrtcGetErrorString ? g_nv.nvrtcGetErrorString(code) : nullptr;
  Napi::Error err = Napi::Error::New(env, std::string(call) + " failed: " + (name ? name : "nvrtcResult") + " (" +
                                              std::to_string(code) + ")");
  err.Set("call", Napi::String::New(env, call));
  err.Set("code", Napi::Number::New(env, code));
  err.Set("codeName", Napi::String::New(env, name ? name : ""));
  throw err;
}

static void CheckNvrtc(Napi::Env env, const char* call, nvrtcResult r) {
  if (r != NVRTC_SUCCESS) ThrowNvrtc(env, call, r);
}

// nvrtcLoad(path) -> undefined on success, else the reason.
static Napi::Value NvrtcLoad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (g_nvLib != nullptr) return env.Undefined();
  std::string path = StringArg(info, 0, "a library path");
  std::string error;
  void* lib = OpenLibrary(path, &error);
  if (lib == nullptr) return Napi::String::New(env, error);
  NvrtcApi api{};
  std::vector<std::string> missing;
  auto need = [&](auto* slot, const char* name) {
    if (!BindSymbol(lib, slot, {name})) missing.push_back(name);
  };
  need(&api.nvrtcGetErrorString, "nvrtcGetErrorString");
  need(&api.nvrtcVersion, "nvrtcVersion");
  need(&api.nvrtcCreateProgram, "nvrtcCreateProgram");
  need(&api.nvrtcDestroyProgram, "nvrtcDestroyProgram");
  need(&api.nvrtcCompileProgram, "nvrtcCompileProgram");
  need(&api.nvrtcGetProgramLogSize, "nvrtcGetProgramLogSize");
  need(&api.nvrtcGetProgramLog, "nvrtcGetProgramLog");
  need(&api.nvrtcGetPTXSize, "nvrtcGetPTXSize");
  need(&api.nvrtcGetPTX, "nvrtcGetPTX");
  // Newer entry points: absent from old NVRTCs, which then produce PTX only.
  BindSymbol(lib, &api.nvrtcGetCUBINSize, {"nvrtcGetCUBINSize"});
  BindSymbol(lib, &api.nvrtcGetCUBIN, {"nvrtcGetCUBIN"});
  BindSymbol(lib, &api.nvrtcGetNumSupportedArchs, {"nvrtcGetNumSupportedArchs"});
  BindSymbol(lib, &api.nvrtcGetSupportedArchs, {"nvrtcGetSupportedArchs"});
  if (!missing.empty()) {
    dlclose(lib);
    std::string m = path + " lacks ";
    for (size_t i = 0; i < missing.size(); i++) m += (i ? ", " : "") + missing[i];
    return Napi::String::New(env, m);
  }
  g_nv = api;
  g_nvLib = lib;
  return env.Undefined();
}

static Napi::Value NvrtcLoaded(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), g_nvLib != nullptr);
}

static Napi::Value NvrtcVersion(const Napi::CallbackInfo& info) {
  int major = 0, minor = 0;
  CheckNvrtc(info.Env(), "nvrtcVersion", Nvrtc(info.Env()).nvrtcVersion(&major, &minor));
  Napi::Array r = Napi::Array::New(info.Env(), 2);
  r.Set(0u, Napi::Number::New(info.Env(), major));
  r.Set(1u, Napi::Number::New(info.Env(), minor));
  return r;
}

// The SM numbers (e.g. 90 for sm_90) this NVRTC can emit CUBIN for; empty when it cannot say.
static Napi::Value NvrtcGetSupportedArchs(const Napi::CallbackInfo& info) {
  const NvrtcApi& nv = Nvrtc(info.Env());
  std::vector<int> archs;
  if (nv.nvrtcGetNumSupportedArchs != nullptr && nv.nvrtcGetSupportedArchs != nullptr) {
    int n = 0;
    CheckNvrtc(info.Env(), "nvrtcGetNumSupportedArchs", nv.nvrtcGetNumSupportedArchs(&n));
    archs.resize(static_cast<size_t>(n));
    if (n > 0) CheckNvrtc(info.Env(), "nvrtcGetSupportedArchs", nv.nvrtcGetSupportedArchs(archs.data()));
  }
  Napi::Array r = Napi::Array::New(info.Env(), archs.size());
  for (size_t i = 0; i < archs.size(); i++) r.Set(static_cast<uint32_t>(i), Napi::Number::New(info.Env(), archs[i]));
  return r;
}

// Destroys the program on every path out of nvrtcCompile.
struct ProgramGuard {
  const NvrtcApi& nv;
  nvrtcProgram prog = nullptr;
  ~ProgramGuard() {
    if (prog != nullptr) nv.nvrtcDestroyProgram(&prog);
  }
};

// nvrtcCompile(source, name, options: string[], cubin: boolean)
//   -> { ok: true, log, binary: Uint8Array } | { ok: false, log, code, codeName }
// A compilation error is a result (TS adds the source's path to it); other failures throw.
static Napi::Value NvrtcCompile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const NvrtcApi& nv = Nvrtc(env);
  std::string source = StringArg(info, 0, "the CUDA source");
  std::string name = StringArg(info, 1, "a program name");
  if (!info[2].IsArray()) throw ArgError(info, 2, "an array of option strings");
  Napi::Array opts = info[2].As<Napi::Array>();
  bool wantCubin = info[3].ToBoolean().Value();
  std::vector<std::string> optStore;
  for (uint32_t i = 0; i < opts.Length(); i++) optStore.push_back(opts.Get(i).ToString().Utf8Value());
  std::vector<const char*> optPtrs;
  for (const std::string& o : optStore) optPtrs.push_back(o.c_str());

  ProgramGuard g{nv};
  CheckNvrtc(env, "nvrtcCreateProgram", nv.nvrtcCreateProgram(&g.prog, source.c_str(), name.c_str(), 0, nullptr, nullptr));
  nvrtcResult cr = nv.nvrtcCompileProgram(g.prog, static_cast<int>(optPtrs.size()), optPtrs.empty() ? nullptr : optPtrs.data());

  size_t logSize = 0;
  CheckNvrtc(env, "nvrtcGetProgramLogSize", nv.nvrtcGetProgramLogSize(g.prog, &logSize));
  std::string log(logSize, '\0');
  if (logSize > 0) CheckNvrtc(env, "nvrtcGetProgramLog", nv.nvrtcGetProgramLog(g.prog, &log[0]));
  while (!log.empty() && log.back() == '\0') log.pop_back();

  Napi::Object result = Napi::Object::New(env);
  result.Set("log", Napi::String::New(env, log));
  if (cr != NVRTC_SUCCESS) {
    if (cr != NVRTC_ERROR_COMPILATION) ThrowNvrtc(env, "nvrtcCompileProgram", cr);
    result.Set("ok", Napi::Boolean::New(env, false));
    result.Set("code", Napi::Number::New(env, cr));
    result.Set("codeName", Napi::String::New(env, nv.nvrtcGetErrorString(cr)));
    return result;
  }
  size_t size = 0;
  Napi::Buffer<uint8_t> bin;
  if (wantCubin) {
    if (nv.nvrtcGetCUBIN == nullptr) throw Napi::Error::New(env, "this NVRTC has no nvrtcGetCUBIN (older than CUDA 11.1)");
    CheckNvrtc(env, "nvrtcGetCUBINSize", nv.nvrtcGetCUBINSize(g.prog, &size));
    bin = Napi::Buffer<uint8_t>::New(env, size);
    CheckNvrtc(env, "nvrtcGetCUBIN", nv.nvrtcGetCUBIN(g.prog, reinterpret_cast<char*>(bin.Data())));
  } else {
    // The PTX size includes its terminating NUL, which cuModuleLoadData needs.
    CheckNvrtc(env, "nvrtcGetPTXSize", nv.nvrtcGetPTXSize(g.prog, &size));
    bin = Napi::Buffer<uint8_t>::New(env, size);
    CheckNvrtc(env, "nvrtcGetPTX", nv.nvrtcGetPTX(g.prog, reinterpret_cast<char*>(bin.Data())));
  }
  result.Set("ok", Napi::Boolean::New(env, true));
  result.Set("binary", bin);
  return result;
}

void RegisterNvrtc(Napi::Env env, Napi::Object exports) {
  exports.Set("nvrtcLoad", Napi::Function::New(env, NvrtcLoad));
  exports.Set("nvrtcLoaded", Napi::Function::New(env, NvrtcLoaded));
  exports.Set("nvrtcVersion", Napi::Function::New(env, NvrtcVersion));
  exports.Set("nvrtcGetSupportedArchs", Napi::Function::New(env, NvrtcGetSupportedArchs));
  exports.Set("nvrtcCompile", Napi::Function::New(env, NvrtcCompile));
}

}  // namespace kiln
