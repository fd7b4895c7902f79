// Reads a fuzz input front to back, one small value per byte (zeros once it runs out),
// so that hand-written seeds are easy to make and a mutated byte changes one field.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>

namespace deconv_fuzz {

class ByteReader {
 public:
  ByteReader(const uint8_t* data, size_t size) : data_(data), size_(size) {}

  uint8_t byte() { return pos_ < size_ ? data_[pos_++] : 0; }
  bool flag() { return byte() & 1; }
  // lo..hi (inclusive), from one byte: for small bounded ranges.
  int64_t range(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(byte() % static_cast<uint64_t>(hi - lo + 1));
  }
  uint64_t u64() {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | byte();
    return v;
  }
  // An integer that is usually small but often sits on an edge that shape code gets
  // wrong: 0, +-1, around 2^31, 2^40 and the int64 limits, or any 64-bit value.
  int64_t edgy() {
    const uint8_t b = byte();
    if (b < 160) return static_cast<int64_t>(b % 20) - 2;  // -2..17
    switch (b % 12) {
      case 0: return int64_t(1) << 31;
      case 1: return (int64_t(1) << 31) + 1;
      case 2: return (int64_t(1) << 31) - 1;
      case 3: return int64_t(1) << 40;
      case 4: return (int64_t(1) << 40) + 1;
      case 5: return std::numeric_limits<int64_t>::max();
      case 6: return std::numeric_limits<int64_t>::min();
      case 7: return int64_t(1) << 62;
      case 8: return static_cast<int64_t>(byte()) * 1000 + byte();
      case 9: return -static_cast<int64_t>(u64() >> 1);
      default: return static_cast<int64_t>(u64());
    }
  }
  size_t remaining() const { return size_ - pos_; }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

}  // namespace deconv_fuzz
