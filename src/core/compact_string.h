#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace beckon {

// A string that keeps up to kInline (31) bytes inside itself, where std::string keeps 15, in
// the same 32 bytes; longer ones go to the heap. For short identifiers held by the million, such
// as the journey names in every customer's state ("cart_abandonment" is 16 bytes): they need no
// allocation when a state is decoded, and a comparison reads the object's own cache line
// instead of following a pointer to a heap block that is rarely in cache.
//
// Converts to std::string_view implicitly, and is built from views and strings implicitly, so it
// reads like the std::string it replaces. Not null-terminated.
class CompactString {
 public:
  static constexpr size_t kInline = 31;

  CompactString() noexcept { set_inline_size(0); }
  CompactString(std::string_view s) {  // NOLINT(google-explicit-constructor): reads as a string
    set_inline_size(0);
    assign(s);
  }
  CompactString(const std::string& s) : CompactString(std::string_view(s)) {}  // NOLINT
  CompactString(const char* s) : CompactString(std::string_view(s)) {}         // NOLINT
  CompactString(const CompactString& o) : CompactString(o.view()) {}
  CompactString(CompactString&& o) noexcept {
    std::memcpy(bytes_, o.bytes_, sizeof bytes_);
    o.set_inline_size(0);
  }
  CompactString& operator=(const CompactString& o) {
    if (this != &o) assign(o.view());
    return *this;
  }
  CompactString& operator=(CompactString&& o) noexcept {
    if (this != &o) {
      release();
      std::memcpy(bytes_, o.bytes_, sizeof bytes_);
      o.set_inline_size(0);
    }
    return *this;
  }
  CompactString& operator=(std::string_view s) {
    assign(s);
    return *this;
  }
  CompactString& operator=(const std::string& s) { return *this = std::string_view(s); }
  CompactString& operator=(const char* s) { return *this = std::string_view(s); }
  ~CompactString() { release(); }

  // `s` may point into this string.
  void assign(std::string_view s) {
    if (s.size() <= kInline) {
      char* old = on_heap() ? heap_data() : nullptr;
      // The heap pointer in bytes_ is read already. (An empty view may have no data at all.)
      if (!s.empty()) std::memmove(bytes_, s.data(), s.size());
      set_inline_size(s.size());
      delete[] old;
      return;
    }
    char* copy = new char[s.size()];
    std::memcpy(copy, s.data(), s.size());
    release();
    std::memcpy(bytes_, &copy, sizeof copy);
    const size_t n = s.size();
    std::memcpy(bytes_ + sizeof copy, &n, sizeof n);
    bytes_[kTagByte] = static_cast<char>(kHeapTag);
  }

  const char* data() const { return on_heap() ? heap_data() : bytes_; }
  size_t size() const { return on_heap() ? heap_size() : static_cast<uint8_t>(bytes_[kTagByte]); }
  bool empty() const { return size() == 0; }
  std::string_view view() const { return {data(), size()}; }
  operator std::string_view() const { return view(); }  // NOLINT(google-explicit-constructor)
  std::string str() const { return std::string(view()); }

  friend bool operator==(const CompactString& a, const CompactString& b) { return a.view() == b.view(); }
  friend bool operator==(const CompactString& a, std::string_view b) { return a.view() == b; }
  friend bool operator==(const CompactString& a, const std::string& b) { return a.view() == b; }
  friend bool operator==(const CompactString& a, const char* b) { return a.view() == std::string_view(b); }

 private:
  // bytes_[0, 31): the characters, or the heap block's pointer and size; bytes_[31]: the size
  // when inline, else kHeapTag.
  static constexpr size_t kTagByte = 31;
  static constexpr uint8_t kHeapTag = 0xFF;

  bool on_heap() const { return static_cast<uint8_t>(bytes_[kTagByte]) == kHeapTag; }
  char* heap_data() const {
    char* p;
    std::memcpy(&p, bytes_, sizeof p);
    return p;
  }
  size_t heap_size() const {
    size_t n;
    std::memcpy(&n, bytes_ + sizeof(char*), sizeof n);
    return n;
  }
  void set_inline_size(size_t n) { bytes_[kTagByte] = static_cast<char>(n); }
  void release() {
    if (on_heap()) delete[] heap_data();
    set_inline_size(0);
  }

  alignas(8) char bytes_[32];
};
static_assert(sizeof(CompactString) == 32);

}  // namespace beckon
