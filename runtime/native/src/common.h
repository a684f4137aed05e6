// Argument conversion shared by every binding. Handles (contexts, streams, modules, functions,
// events, graphs, library handles) and device pointers cross into JavaScript as BigInt, so
// 64-bit values stay exact; the TypeScript side wraps them in classes and owns their lifetime.
#pragma once

#include <napi.h>

#include <cstdint>
#include <string>

namespace kiln {

struct Bytes {
  void* data;
  size_t length;
};

inline Napi::TypeError ArgError(const Napi::CallbackInfo& info, size_t i, const char* what) {
  return Napi::TypeError::New(info.Env(), std::string("argument ") + std::to_string(i) + ": expected " + what);
}

// A BigInt or a non-negative integral Number, as an unsigned 64-bit value.
inline uint64_t U64Arg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  Napi::Value v = info[i];
  if (v.IsBigInt()) {
    bool lossless = true;
    uint64_t r = v.As<Napi::BigInt>().Uint64Value(&lossless);
    if (!lossless) throw ArgError(info, i, what);
    return r;
  }
  if (v.IsNumber()) {
    double d = v.As<Napi::Number>().DoubleValue();
    if (d < 0 || d != static_cast<double>(static_cast<uint64_t>(d))) throw ArgError(info, i, what);
    return static_cast<uint64_t>(d);
  }
  throw ArgError(info, i, what);
}

inline size_t SizeArg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  return static_cast<size_t>(U64Arg(info, i, what));
}

inline int IntArg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (!info[i].IsNumber()) throw ArgError(info, i, what);
  return info[i].As<Napi::Number>().Int32Value();
}

inline unsigned UIntArg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (!info[i].IsNumber()) throw ArgError(info, i, what);
  return info[i].As<Napi::Number>().Uint32Value();
}

inline std::string StringArg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (!info[i].IsString()) throw ArgError(info, i, what);
  return info[i].As<Napi::String>().Utf8Value();
}

template <class T>
T HandleArg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  return reinterpret_cast<T>(static_cast<uintptr_t>(U64Arg(info, i, what)));
}

inline Napi::BigInt HandleValue(Napi::Env env, const void* p) {
  return Napi::BigInt::New(env, static_cast<uint64_t>(reinterpret_cast<uintptr_t>(p)));
}

// The bytes behind a TypedArray (any element type, Buffer included) or a DataView.
inline Bytes BytesOf(const Napi::CallbackInfo& info, Napi::Value v, size_t i, const char* what) {
  if (v.IsTypedArray()) {
    Napi::TypedArray t = v.As<Napi::TypedArray>();
    uint8_t* base = static_cast<uint8_t*>(t.ArrayBuffer().Data());
    return {base == nullptr ? nullptr : base + t.ByteOffset(), t.ByteLength()};
  }
  if (v.IsDataView()) {
    Napi::DataView d = v.As<Napi::DataView>();
    return {d.Data(), d.ByteLength()};
  }
  throw ArgError(info, i, what);
}

inline Bytes BytesArg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  return BytesOf(info, info[i], i, what);
}

}  // namespace kiln
