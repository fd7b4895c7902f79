// Scratch memory for the kernels' temporaries. Small requests reuse one buffer per
// calling thread, so repeated calls skip the allocator, the zero fill and the page
// faults of fresh memory; large ones are allocated and freed as usual.
#pragma once

#include <cstddef>
#include <memory>

#include "core/huge_pages.h"

namespace deconv {
namespace cpu {

class Scratch {
 public:
  // What a thread may keep: Winograd's temporaries of the DCGAN layers (about 20 MB) fit;
  // fresh memory of that size cost its transforms a page fault per 4 KB (dcgan2: 20 ms a
  // call against 8).
  static constexpr size_t kKeepBytes = size_t(32) << 20;

  explicit Scratch(size_t bytes) {
    Cache& c = cache();
    if (bytes <= kKeepBytes && !c.in_use) {
      if (c.size < bytes) {
        c.data.reset(new char[bytes]);
        prefer_huge_pages(c.data.get(), bytes);
        c.size = bytes;
      }
      c.in_use = true;
      ptr_ = c.data.get();
      cached_ = true;
    } else {
      // No huge-page advice here: on a VM short of free 2 MB pages, faulting them in
      // compacted memory for hundreds of ms, which no interrupt can cut short (the
      // interrupt tests' stop latency went from 5 ms to 0.3 s).
      own_.reset(new char[bytes]);
      ptr_ = own_.get();
    }
  }
  ~Scratch() {
    if (cached_) cache().in_use = false;
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;

  // The memory as `T`s (new[] aligns for any fundamental type).
  template <typename T>
  T* as() const {
    return reinterpret_cast<T*>(ptr_);
  }

 private:
  struct Cache {
    std::unique_ptr<char[]> data;
    size_t size = 0;
    bool in_use = false;
  };
  static Cache& cache() {
    thread_local Cache c;
    return c;
  }
  std::unique_ptr<char[]> own_;
  char* ptr_ = nullptr;
  bool cached_ = false;
};

}  // namespace cpu
}  // namespace deconv
