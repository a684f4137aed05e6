// dlopen/dlsym with the error text kept, so a failure can say which file and why.
#pragma once

#include <dlfcn.h>

// Bind the dl* functions to their oldest symbol versions: glibc 2.34 moved them into libc with
// new versions, and a build here would otherwise refuse to load on glibc 2.28-2.33 machines
// (RHEL 8, Ubuntu 20.04) that the prebuilt addon is carried to for GPU runs. binding.gyp keeps
// libdl.so.2 as a dependency so older glibcs find them there.
#if defined(__linux__) && defined(__x86_64__)
__asm__(".symver dlopen,dlopen@GLIBC_2.2.5");
__asm__(".symver dlsym,dlsym@GLIBC_2.2.5");
__asm__(".symver dlerror,dlerror@GLIBC_2.2.5");
__asm__(".symver dlclose,dlclose@GLIBC_2.2.5");
#endif

#include <initializer_list>
#include <string>

namespace kiln {

inline void* OpenLibrary(const std::string& path, std::string* error) {
  dlerror();
  // RTLD_LOCAL: kernels from different modules may export the same names.
  void* h = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (h == nullptr && error != nullptr) {
    const char* e = dlerror();
    *error = e != nullptr ? e : "dlopen failed";
  }
  return h;
}

// The first of `names` the library exports, or null.
template <class Fn>
bool BindSymbol(void* lib, Fn* slot, std::initializer_list<const char*> names) {
  for (const char* n : names) {
    void* p = dlsym(lib, n);
    if (p != nullptr) {
      *slot = reinterpret_cast<Fn>(p);
      return true;
    }
  }
  *slot = nullptr;
  return false;
}

}  // namespace kiln
