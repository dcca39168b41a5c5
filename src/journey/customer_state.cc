#include "journey/customer_state.h"

#include <algorithm>
#include <bit>
#include <cstring>

#include <nlohmann/json.hpp>

#include "core/hash.h"

namespace beckon::journey {

namespace {

// Hard limits on decoded collection sizes, above the engine's own bounds so a state written by a
// build with slightly larger bounds still decodes, but small enough that garbage cannot make the
// decoder allocate much.
constexpr uint64_t kMaxDecodedElements = 4096;
constexpr uint64_t kMaxDecodedString = 1 << 16;

// The longest varint (a full uint64_t).
constexpr size_t kMaxVarintBytes = 10;

static_assert(std::endian::native == std::endian::little || std::endian::native == std::endian::big,
              "the codec's 8-byte loads and stores assume a little- or big-endian host");

// 8 bytes in the format's little-endian order, whatever the host's order. Unaligned.
inline void store_le64(char* p, uint64_t v) {
  if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap64(v);
  std::memcpy(p, &v, 8);
}
inline uint64_t load_le64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap64(v);
  return v;
}

// Bits i*7..i*7+6 of `v` into byte i (i < 8), and back: one 8-byte store or load then encodes or
// decodes a varint of up to 8 bytes (values below 2^56: every count and time the engine writes)
// without a branch per byte.
inline uint64_t spread7(uint64_t v) {
  return (v & 0x7fULL) | ((v << 1) & 0x7f00ULL) | ((v << 2) & 0x7f0000ULL) | ((v << 3) & 0x7f000000ULL) |
         ((v << 4) & 0x7f00000000ULL) | ((v << 5) & 0x7f0000000000ULL) | ((v << 6) & 0x7f000000000000ULL) |
         ((v << 7) & 0x7f00000000000000ULL);
}
inline uint64_t gather7(uint64_t x) {
  return (x & 0x7fULL) | ((x >> 1) & (0x7fULL << 7)) | ((x >> 2) & (0x7fULL << 14)) | ((x >> 3) & (0x7fULL << 21)) |
         ((x >> 4) & (0x7fULL << 28)) | ((x >> 5) & (0x7fULL << 35)) | ((x >> 6) & (0x7fULL << 42)) |
         ((x >> 7) & (0x7fULL << 49));
}
constexpr uint64_t kContinuationBits = 0x8080808080808080ULL;

// The varint of `v` >= 0x80 (2..10 bytes) at `p`, which has room for kMaxVarintBytes; returns the
// end. Out of line and free of the Writer's state, so the callers' inline single-byte path stays
// small and their cursor stays in a register.
[[gnu::noinline]] char* put_varint_multibyte(char* p, uint64_t v) {
  if (v < (uint64_t{1} << 56)) [[likely]] {
    auto n = static_cast<unsigned>(std::bit_width(v) + 6) / 7;
    // The continuation bit on all bytes but the last.
    store_le64(p, spread7(v) | (kContinuationBits & ((uint64_t{1} << (8 * (n - 1))) - 1)));
    return p + n;
  }
  // 9 or 10 bytes (hash ids, extreme times): 8 full groups, then the top 8 bits.
  store_le64(p, spread7(v) | kContinuationBits);
  p += 8;
  v >>= 56;
  if (v < 0x80) {
    *p++ = static_cast<char>(v);
  } else {
    *p++ = static_cast<char>(v | 0x80);
    *p++ = static_cast<char>(v >> 7);
  }
  return p;
}

struct VarintRead {
  uint64_t value;
  size_t length;  // bytes taken; 0 = a 10th byte above 1 (the value would overflow 64 bits)
};

// The varint at `p` whose first byte has its continuation bit set; at least kMaxVarintBytes are
// readable. Same acceptance as the byte-by-byte loop of Reader::u64_checked.
[[gnu::noinline]] VarintRead get_varint_multibyte(const char* p) {
  uint64_t x = load_le64(p);
  uint64_t stops = ~x & kContinuationBits;
  if (stops != 0) [[likely]] {
    // 2..8 bytes: keep the bytes through the first one without a continuation bit.
    auto bits = static_cast<unsigned>(std::countr_zero(stops)) + 1;  // 8 * length
    if (bits < 64) x &= (uint64_t{1} << bits) - 1;
    return {gather7(x), bits / 8};
  }
  uint64_t v = gather7(x);
  auto b = static_cast<uint8_t>(p[8]);
  v |= static_cast<uint64_t>(b & 0x7f) << 56;
  if ((b & 0x80) == 0) return {v, 9};
  b = static_cast<uint8_t>(p[9]);
  if (b > 1) return {0, 0};
  return {v | static_cast<uint64_t>(b) << 63, 10};
}

inline uint64_t zigzag(int64_t v) { return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63); }
inline int64_t unzigzag(uint64_t z) { return static_cast<int64_t>(z >> 1) ^ -static_cast<int64_t>(z & 1); }

// Writer and Reader share one field list (visit_state below), so encode and decode cannot drift.
// Their per-field methods are forced inline so that, across the whole visit, the cursor stays in a
// register and each field costs one bounds check; the rare paths (growing, long varints, the end
// of the input, failures) are out of line to keep the inlined code small.

// Writes through a raw cursor into `out`, which it sizes ahead of the cursor (zero-filled by
// std::string::resize) and trims in finish(). Each field checks once that its largest encoding
// fits; growing doubles the buffer, so a state costs O(1) reallocations.
class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {
    out_.clear();
    out_.resize(std::clamp<size_t>(out_.capacity(), kInitialBytes, kMaxInitialBytes));
    p_ = out_.data();
    end_ = p_ + out_.size();
  }
  // Trims `out` to what was written. The Writer must not be used afterwards.
  void finish() { out_.resize(static_cast<size_t>(p_ - out_.data())); }

  [[gnu::always_inline]] void byte(uint8_t b) {
    reserve(1);
    *p_++ = static_cast<char>(b);
  }
  // A varint: one capacity check; a single byte inline, longer ones out of line.
  [[gnu::always_inline]] void u64(uint64_t v) {
    reserve(kMaxVarintBytes);
    if (v < 0x80) {
      *p_++ = static_cast<char>(v);
    } else {
      p_ = put_varint_multibyte(p_, v);
    }
  }
  [[gnu::always_inline]] void field(const uint64_t& v) { u64(v); }
  [[gnu::always_inline]] void field(const uint32_t& v) { u64(v); }
  [[gnu::always_inline]] void field(const int64_t& v) { u64(zigzag(v)); }
  [[gnu::always_inline]] void field(const int32_t& v) { u64(zigzag(v)); }
  [[gnu::always_inline]] void field(const double& v) {
    reserve(8);
    store_le64(p_, std::bit_cast<uint64_t>(v));
    p_ += 8;
  }
  [[gnu::always_inline]] void field(std::string_view v) {
    u64(v.size());
    reserve(v.size());
    std::memcpy(p_, v.data(), v.size());
    p_ += v.size();
  }
  [[gnu::always_inline]] void field(const std::string& v) { field(std::string_view(v)); }
  [[gnu::always_inline]] void field(const CompactString& v) { field(v.view()); }
  template <typename E>
    requires std::is_enum_v<E>
  [[gnu::always_inline]] void enumeration(const E& v, int /*count*/) {
    u64(static_cast<uint64_t>(v));
  }
  template <typename T, typename F>
  void vec(const std::vector<T>& v, F&& each) {
    u64(v.size());
    for (const auto& e : v) each(e);
  }

  // Version 2 (see visit_state_v2).
  // A time: 0 for the zero time, else the zig-zag difference from the previous non-zero time of
  // the state (wrapping), plus 2; 1 escapes a difference too large for that (8 raw bytes follow).
  [[gnu::always_inline]] void time(const EventTime& t) {
    const auto v = static_cast<uint64_t>(t.ms());
    if (v == 0) return byte(0);
    const uint64_t z = zigzag(static_cast<int64_t>(v - base_));
    base_ = v;
    if (z <= UINT64_MAX - 2) [[likely]] return u64(z + 2);
    byte(1);
    fixed64(v);
  }
  [[gnu::always_inline]] void fixed64(const uint64_t& v) {
    reserve(8);
    store_le64(p_, v);
    p_ += 8;
  }
  // Up to 8 booleans as the bits of one byte, the first argument in bit 0.
  template <typename... B>
  [[gnu::always_inline]] void flags(const B&... b) {
    static_assert(sizeof...(B) <= 8);
    unsigned bits = 0, i = 0;
    ((bits |= (b ? 1u : 0u) << i++), ...);
    byte(static_cast<uint8_t>(bits));
  }
  // Enums of `count` (<= 4) values, two bits each, element 0 in the lowest bits.
  template <typename E, size_t N>
  void packed_enums(const std::array<E, N>& a, int /*count*/) {
    static_assert(N <= 32);
    uint64_t bits = 0;
    for (size_t i = 0; i < N; ++i) bits |= static_cast<uint64_t>(a[i]) << (2 * i);
    u64(bits);
  }
  // The set of elements of `a` that differ from a default element (bit i = element i), written
  // as a varint and returned; the visitor then writes those elements only.
  template <typename T, size_t N, typename IsDefault>
  uint64_t present(const std::array<T, N>& a, IsDefault&& is_default) {
    static_assert(N <= 64);
    uint64_t mask = 0;
    for (size_t i = 0; i < N; ++i) mask |= static_cast<uint64_t>(!is_default(a[i])) << i;
    u64(mask);
    return mask;
  }
  uint64_t present_one(bool is_default) {
    byte(is_default ? 0 : 1);
    return is_default ? 0 : 1;
  }
  // A journey name: k + 1 when it equals progress[k].journey (already written), else 0 and the
  // name itself.
  void journey_ref(const CompactString& name, const std::vector<JourneyProgress>& progress) {
    for (size_t k = 0; k < progress.size(); ++k) {
      if (progress[k].journey == name) return u64(k + 1);
    }
    u64(0);
    field(name);
  }

 private:
  // Enough for a typical state (~0.5 KB) without growing; capped so a string that once held a
  // large state does not make every later encode clear its whole capacity.
  static constexpr size_t kInitialBytes = 1024;
  static constexpr size_t kMaxInitialBytes = 4096;

  [[gnu::always_inline]] void reserve(size_t n) {
    if (static_cast<size_t>(end_ - p_) < n) [[unlikely]] grow(n);
  }
  [[gnu::noinline]] void grow(size_t n) {
    auto used = static_cast<size_t>(p_ - out_.data());
    out_.resize(std::max(out_.size() * 2, used + n));
    p_ = out_.data() + used;
    end_ = out_.data() + out_.size();
  }

  std::string& out_;
  char* p_ = nullptr;
  char* end_ = nullptr;
  uint64_t base_ = 0;  // the last non-zero time written
};

// Reads from a cursor; every read checks the remaining input once. The first failure is recorded
// (with its byte offset) and moves the cursor to the end, so every later read fails at once and
// returns zero without touching the input: a caller may keep visiting fields and check ok() at the
// end, or stop early.
class Reader {
 public:
  explicit Reader(std::string_view in) : begin_(in.data()), p_(in.data()), end_(in.data() + in.size()) {}
  bool ok() const { return error_ == nullptr; }
  std::string error() const {
    return ok() ? std::string() : std::string(error_) + " at byte " + std::to_string(error_pos_);
  }
  bool at_end() const { return p_ == end_; }
  size_t remaining() const { return static_cast<size_t>(end_ - p_); }

  void fail(const char* what) {
    if (error_ == nullptr) {
      error_ = what;
      error_pos_ = static_cast<size_t>(p_ - begin_);
    }
    p_ = end_;
  }

  // A varint: one bounds check while at least kMaxVarintBytes remain, then a single byte inline or
  // the longer ones out of line; byte by byte (checking each) near the end of the input.
  [[gnu::always_inline]] uint64_t u64() {
    if (remaining() < kMaxVarintBytes) [[unlikely]] return u64_checked();
    auto b = static_cast<uint8_t>(*p_);
    if (b < 0x80) {
      ++p_;
      return b;
    }
    VarintRead r = get_varint_multibyte(p_);
    if (r.length == 0) [[unlikely]] return overflow();
    p_ += r.length;
    return r.value;
  }
  [[gnu::always_inline]] void field(uint64_t& v) { v = u64(); }
  [[gnu::always_inline]] void field(uint32_t& v) {
    uint64_t w = u64();
    if (w > UINT32_MAX) fail("u32 out of range");
    v = static_cast<uint32_t>(w);
  }
  [[gnu::always_inline]] void field(int64_t& v) { v = unzigzag(u64()); }
  [[gnu::always_inline]] void field(int32_t& v) {
    int64_t w = unzigzag(u64());
    if (w < INT32_MIN || w > INT32_MAX) fail("i32 out of range");
    v = static_cast<int32_t>(w);
  }
  [[gnu::always_inline]] void field(bool& v) {
    if (p_ == end_) return fail("truncated bool");
    auto b = static_cast<uint8_t>(*p_++);
    if (b > 1) return fail("bad bool");
    v = b == 1;
  }
  [[gnu::always_inline]] void field(double& v) {
    if (remaining() < 8) return fail("truncated double");
    v = std::bit_cast<double>(load_le64(p_));
    p_ += 8;
  }
  // std::string or CompactString
  template <typename S>
    requires std::is_same_v<S, std::string> || std::is_same_v<S, CompactString>
  [[gnu::always_inline]] void field(S& v) {
    uint64_t n = u64();
    if (n > remaining() || n > kMaxDecodedString) return fail("bad string length");
    v.assign(std::string_view(p_, n));
    p_ += n;
  }
  [[gnu::always_inline]] void field(EventTime& v) { v = EventTime(unzigzag(u64())); }
  template <typename E>
    requires std::is_enum_v<E>
  [[gnu::always_inline]] void enumeration(E& v, int count) {
    uint64_t w = u64();
    if (w >= static_cast<uint64_t>(count)) return fail("enum out of range");
    v = static_cast<E>(w);
  }
  // Version 2: the inverses of the Writer's methods of the same names.
  [[gnu::always_inline]] void time(EventTime& t) {
    const uint64_t n = u64();
    if (n == 0) {
      t = EventTime(0);
      return;
    }
    uint64_t v = 0;
    if (n == 1) [[unlikely]] {
      fixed64(v);
      if (!ok()) return;
      if (v == 0) return fail("escaped zero time");
      if (zigzag(static_cast<int64_t>(v - base_)) <= UINT64_MAX - 2) return fail("needless time escape");
    } else {
      v = base_ + static_cast<uint64_t>(unzigzag(n - 2));
      if (v == 0) return fail("time difference to zero");
    }
    base_ = v;
    t = EventTime(static_cast<int64_t>(v));
  }
  [[gnu::always_inline]] void fixed64(uint64_t& v) {
    if (remaining() < 8) return fail("truncated fixed64");
    v = load_le64(p_);
    p_ += 8;
  }
  template <typename... B>
  [[gnu::always_inline]] void flags(B&... b) {
    if (p_ == end_) return fail("truncated flags");
    const auto bits = static_cast<uint8_t>(*p_++);
    if ((bits >> sizeof...(B)) != 0) return fail("unknown flag bits");
    unsigned i = 0;
    ((b = ((bits >> i++) & 1) != 0), ...);
  }
  template <typename E, size_t N>
  void packed_enums(std::array<E, N>& a, int count) {
    const uint64_t bits = u64();
    if (N < 32 && (bits >> (2 * N)) != 0) return fail("enum bits out of range");
    for (size_t i = 0; i < N; ++i) {
      const uint64_t v = (bits >> (2 * i)) & 3;
      if (v >= static_cast<uint64_t>(count)) return fail("enum out of range");
      a[i] = static_cast<E>(v);
    }
  }
  // The elements not in the set keep their default values (decode() starts from a default state).
  template <typename T, size_t N, typename IsDefault>
  uint64_t present(std::array<T, N>& /*a*/, IsDefault&& /*is_default*/) {
    const uint64_t mask = u64();
    if (N < 64 && (mask >> N) != 0) {
      fail("presence bits out of range");
      return 0;
    }
    return mask;
  }
  uint64_t present_one(bool /*is_default*/) {
    if (p_ == end_) {
      fail("truncated presence");
      return 0;
    }
    const auto b = static_cast<uint8_t>(*p_++);
    if (b > 1) {
      fail("bad presence");
      return 0;
    }
    return b;
  }
  void journey_ref(CompactString& name, const std::vector<JourneyProgress>& progress) {
    const uint64_t k = u64();
    if (k == 0) return field(name);
    if (k > progress.size()) return fail("journey reference out of range");
    name = progress[k - 1].journey;
  }

  template <typename T, typename F>
  void vec(std::vector<T>& v, F&& each) {
    uint64_t n = u64();
    if (!ok()) return;
    // Every element takes at least one byte, so a count above the remaining input is garbage.
    if (n > remaining() || n > kMaxDecodedElements) return fail("bad element count");
    v.clear();
    v.resize(n);
    for (auto& e : v) {
      each(e);
      if (!ok()) return;
    }
  }

 private:
  [[gnu::noinline]] uint64_t overflow() {
    p_ += kMaxVarintBytes;
    fail("varint overflow");
    return 0;
  }

  // Byte by byte with a bounds check each: the last bytes of the input.
  [[gnu::noinline]] uint64_t u64_checked() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ == end_) {
        fail("truncated varint");
        return 0;
      }
      auto b = static_cast<uint8_t>(*p_++);
      if (shift == 63 && b > 1) {
        fail("varint overflow");
        return 0;
      }
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return v;
    }
    fail("varint too long");
    return 0;
  }

  const char* begin_;
  const char* p_;
  const char* end_;
  const char* error_ = nullptr;  // static text of the first failure
  size_t error_pos_ = 0;
  uint64_t base_ = 0;  // the last non-zero time read (version 2)
};

// The field list of version 1, in encoding order: every field, times as zig-zag varints. Stores
// written before version 2 hold it; it is decoded (Reader), no longer written. Frozen: it repeats
// much of visit_state_v2 on purpose, since a piece shared with the current version would let a
// change to that version silently misread stored version-1 states.
template <typename IO, typename S>
void visit_state_v1(IO& io, S& s) {
  io.field(s.profile.timezone);
  io.field(s.profile.locale);
  io.field(s.profile.email_known);
  io.field(s.profile.phone_known);
  io.field(s.profile.push_token_known);
  for (auto& c : s.consent) io.enumeration(c, 3);
  for (auto& e : s.engagement) {
    io.field(e.delivered);
    io.field(e.opened);
    io.field(e.clicked);
    io.field(e.last);
  }
  io.field(s.orders.order_count);
  io.field(s.orders.lifetime_value);
  io.field(s.orders.first_order);
  io.field(s.orders.last_order);
  io.field(s.orders.last_order_id);

  io.vec(s.cart.items, [&](auto& l) {
    io.field(l.sku);
    io.field(l.quantity);
    io.field(l.unit_price);
    io.field(l.category);
  });
  io.field(s.cart.value);
  io.field(s.cart.currency);
  io.field(s.cart.last_update);
  io.field(s.cart.instance);
  io.field(s.cart.active);

  for (auto& f : s.signups) {
    io.field(f.started);
    io.field(f.start);
    io.field(f.instance);
    io.field(f.completed);
  }
  io.vec(s.replenishment, [&](auto& r) {
    io.field(r.sku);
    io.field(r.category);
    io.field(r.last_order_id);
    io.field(r.last_order);
    io.field(r.quantity);
    io.field(r.due);
  });
  io.vec(s.shipments, [&](auto& sh) {
    io.field(sh.order_id);
    io.field(sh.carrier);
    io.field(sh.shipped);
    io.field(sh.promised_delivery);
    io.field(sh.new_eta);
    io.field(sh.reason);
    io.field(sh.notified);
    io.field(sh.delivered);
  });
  io.vec(s.recent_sends, [&](auto& t) { io.field(t); });
  io.vec(s.progress, [&](auto& p) {
    io.field(p.journey);
    io.field(p.key);
    io.field(p.instance);
    io.field(p.next_step);
    io.field(p.anchor);
    io.field(p.instance_start);
    io.field(p.active);
    io.field(p.completed_once);
  });
  io.vec(s.pending, [&](auto& p) {
    io.field(p.id);
    io.field(p.due);
    io.field(p.original_due);
    io.field(p.journey);
    io.enumeration(p.trigger, kTriggerCount);
    io.field(p.key);
    io.field(p.instance);
    io.field(p.step);
  });
}

// The field list of version 2, in encoding order; `S` is `const CustomerState` for the Writer and
// `CustomerState` for the Reader. Against version 1 it leaves out what is usually empty and
// shortens what is usually repeated:
//   - times are differences from the previous non-zero time of the state (Writer::time), so a
//     state's clustered times take 2-4 bytes instead of 6, and zero times one;
//   - channels without engagement, signup forms never touched and a customer without orders are
//     left out (a presence mask, one byte each when empty);
//   - booleans are bits of one byte per record, the six consents one varint;
//   - a pending timer's journey name refers to the journey progress record of the same name;
//   - timer ids (hashes, 9-10 varint bytes) are 8 fixed bytes.
bool is_default(const ChannelEngagement& e) { return e == ChannelEngagement{}; }
bool is_default(const SignupState& f) { return f == SignupState{}; }
bool is_default(const OrderStats& o) {
  // Bitwise on the double: a stored -0.0 is written, and decodes as -0.0.
  return o.order_count == 0 && std::bit_cast<uint64_t>(o.lifetime_value) == 0 && o.first_order == EventTime(0) &&
         o.last_order == EventTime(0) && o.last_order_id.empty();
}

template <typename IO, typename S>
void visit_state_v2(IO& io, S& s) {
  io.field(s.profile.timezone);
  io.field(s.profile.locale);
  io.flags(s.profile.email_known, s.profile.phone_known, s.profile.push_token_known);
  io.packed_enums(s.consent, 3);
  const uint64_t engaged = io.present(s.engagement, [](const ChannelEngagement& e) { return is_default(e); });
  for (size_t i = 0; i < s.engagement.size(); ++i) {
    if (((engaged >> i) & 1) == 0) continue;
    auto& e = s.engagement[i];
    io.field(e.delivered);
    io.field(e.opened);
    io.field(e.clicked);
    io.time(e.last);
  }
  if (io.present_one(is_default(s.orders)) != 0) {
    io.field(s.orders.order_count);
    io.field(s.orders.lifetime_value);
    io.time(s.orders.first_order);
    io.time(s.orders.last_order);
    io.field(s.orders.last_order_id);
  }

  io.vec(s.cart.items, [&](auto& l) {
    io.field(l.sku);
    io.field(l.quantity);
    io.field(l.unit_price);
    io.field(l.category);
  });
  io.field(s.cart.value);
  io.field(s.cart.currency);
  io.time(s.cart.last_update);
  io.field(s.cart.instance);
  io.flags(s.cart.active);

  const uint64_t forms = io.present(s.signups, [](const SignupState& f) { return is_default(f); });
  for (size_t i = 0; i < s.signups.size(); ++i) {
    if (((forms >> i) & 1) == 0) continue;
    auto& f = s.signups[i];
    io.flags(f.started, f.completed);
    io.time(f.start);
    io.field(f.instance);
  }
  io.vec(s.replenishment, [&](auto& r) {
    io.field(r.sku);
    io.field(r.category);
    io.field(r.last_order_id);
    io.time(r.last_order);
    io.field(r.quantity);
    io.time(r.due);
  });
  io.vec(s.shipments, [&](auto& sh) {
    io.field(sh.order_id);
    io.field(sh.carrier);
    io.time(sh.shipped);
    io.time(sh.promised_delivery);
    io.time(sh.new_eta);
    io.field(sh.reason);
    io.flags(sh.notified, sh.delivered);
  });
  io.vec(s.recent_sends, [&](auto& t) { io.time(t); });
  io.vec(s.progress, [&](auto& p) {
    io.field(p.journey);
    io.field(p.key);
    io.field(p.instance);
    io.field(p.next_step);
    io.time(p.anchor);
    io.time(p.instance_start);
    io.flags(p.active, p.completed_once);
  });
  io.vec(s.pending, [&](auto& p) {
    io.fixed64(p.id);
    io.time(p.due);
    io.time(p.original_due);
    io.journey_ref(p.journey, s.progress);
    io.enumeration(p.trigger, kTriggerCount);
    io.field(p.key);
    io.field(p.instance);
    io.field(p.step);
  });
}

const char* consent_name(ConsentState c) {
  switch (c) {
    case ConsentState::kGranted: return "granted";
    case ConsentState::kDenied: return "denied";
    case ConsentState::kUnknown: break;
  }
  return "unknown";
}

}  // namespace

void CustomerStateCodec::encode(const CustomerState& state, std::string& out) {
  Writer w(out);
  w.byte(kVersion);
  visit_state_v2(w, state);
  w.finish();
}

Status CustomerStateCodec::decode(std::string_view bytes, CustomerState& out) {
  if (bytes.empty()) return Status::corruption("customer state: empty");
  auto version = static_cast<uint8_t>(bytes[0]);
  if (version != kVersion && version != kVersion1) {
    return Status::corruption("customer state: unknown version " + std::to_string(version));
  }
  CustomerState decoded;
  Reader r(bytes.substr(1));
  if (version == kVersion) {
    visit_state_v2(r, decoded);
  } else {
    visit_state_v1(r, decoded);
  }
  if (!r.ok()) return Status::corruption("customer state: " + r.error());
  if (!r.at_end()) return Status::corruption("customer state: trailing bytes");
  out = std::move(decoded);
  return Status::ok();
}

std::string describe_json(const CustomerState& s) {
  using nlohmann::json;
  json j;
  j["profile"] = {{"timezone", s.profile.timezone},
                  {"locale", s.profile.locale},
                  {"email_known", s.profile.email_known},
                  {"phone_known", s.profile.phone_known},
                  {"push_token_known", s.profile.push_token_known}};
  json consent = json::object();
  json engagement = json::object();
  for (int i = 0; i < kChannelCount; ++i) {
    auto name = std::string(to_string(static_cast<Channel>(i)));
    consent[name] = consent_name(s.consent[i]);
    const auto& e = s.engagement[i];
    if (e.delivered || e.opened || e.clicked) {
      engagement[name] = {{"delivered", e.delivered}, {"opened", e.opened}, {"clicked", e.clicked}, {"last_ms", e.last.ms()}};
    }
  }
  j["consent"] = consent;
  j["engagement"] = engagement;
  j["orders"] = {{"order_count", s.orders.order_count},
                 {"lifetime_value", s.orders.lifetime_value},
                 {"first_order_ms", s.orders.first_order.ms()},
                 {"last_order_ms", s.orders.last_order.ms()},
                 {"last_order_id", s.orders.last_order_id}};
  json items = json::array();
  for (const auto& l : s.cart.items) {
    items.push_back({{"sku", l.sku}, {"quantity", l.quantity}, {"unit_price", l.unit_price}, {"category", l.category}});
  }
  j["cart"] = {{"items", items},
               {"value", s.cart.value},
               {"currency", s.cart.currency},
               {"last_update_ms", s.cart.last_update.ms()},
               {"instance", s.cart.instance},
               {"active", s.cart.active}};
  json signups = json::object();
  for (int i = 0; i < kSignupFormCount; ++i) {
    const auto& f = s.signups[i];
    signups[std::string(to_string(static_cast<SignupForm>(i)))] = {
        {"started", f.started}, {"start_ms", f.start.ms()}, {"instance", f.instance}, {"completed", f.completed}};
  }
  j["signups"] = signups;
  json repl = json::array();
  for (const auto& r : s.replenishment) {
    repl.push_back({{"sku", r.sku},
                    {"category", r.category},
                    {"last_order_id", r.last_order_id},
                    {"last_order_ms", r.last_order.ms()},
                    {"quantity", r.quantity},
                    {"due_ms", r.due.ms()}});
  }
  j["replenishment"] = repl;
  json ships = json::array();
  for (const auto& sh : s.shipments) {
    ships.push_back({{"order_id", sh.order_id},
                     {"carrier", sh.carrier},
                     {"shipped_ms", sh.shipped.ms()},
                     {"promised_delivery_ms", sh.promised_delivery.ms()},
                     {"new_eta_ms", sh.new_eta.ms()},
                     {"reason", sh.reason},
                     {"notified", sh.notified},
                     {"delivered", sh.delivered}});
  }
  j["shipments"] = ships;
  json sends = json::array();
  for (auto t : s.recent_sends) sends.push_back(t.ms());
  j["recent_sends_ms"] = sends;
  json progress = json::array();
  for (const auto& p : s.progress) {
    progress.push_back({{"journey", p.journey.str()},
                        {"key", p.key},
                        {"instance", p.instance},
                        {"next_step", p.next_step},
                        {"anchor_ms", p.anchor.ms()},
                        {"instance_start_ms", p.instance_start.ms()},
                        {"active", p.active},
                        {"completed_once", p.completed_once}});
  }
  j["progress"] = progress;
  json pending = json::array();
  for (const auto& p : s.pending) {
    pending.push_back({{"id", to_hex64(p.id)},
                       {"due_ms", p.due.ms()},
                       {"original_due_ms", p.original_due.ms()},
                       {"journey", p.journey.str()},
                       {"trigger", std::string(to_string(p.trigger))},
                       {"key", p.key},
                       {"instance", p.instance},
                       {"step", p.step}});
  }
  j["pending_timers"] = pending;
  return j.dump(2, ' ', false, json::error_handler_t::replace);
}

}  // namespace beckon::journey
