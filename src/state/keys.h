#pragma once
// Byte layout of every key the state store writes. All keys start with the partition as a
// 4-byte big-endian number, so one partition's data is one contiguous key range in every column
// family and a partition can be dropped, copied or restored as a unit.
//
//   customers CF : [partition BE32][customer bytes]                                -> encoded value
//   timers CF    : [partition BE32][bucket BE64]                                   -> timer records
//   offsets CF   : [partition BE32][0x01][topic]                                   -> offset BE64
//                  [partition BE32][0x02][meta key]                                -> raw bytes
//   default CF   : [0xFF]"layout"                                                  -> "timer-buckets"
//
// The layout marker is the only store-wide key, outside every partition's range (its first byte
// is above any partition number's). A store has it once its timers CF holds only
// bucket keys: a store opened for writing without it (written before timers were bucketed, when
// the timers CF held one key [partition BE32][timer key] per timer) is rewritten first, and a
// store with an unknown layout is refused.
//
// A timer is identified by its timer key [due BE64, sign bit flipped][len BE16][customer]
// [timer id BE64]. Flipping the sign bit of the due time makes the bytewise order of timer keys
// equal the numeric order of due times, negative ones first. Within one due time, timers order
// by customer id length, then customer id bytes (unsigned), then timer id.
//
// The timers CF holds one RocksDB key per partition and bucket of kTimerBucketMs of due time
// (the flipped due bits rounded down to a multiple of the width), not one per timer: its value
// is the bucket's timers as records [op 1 byte][timer key], and a commit adds one merge operand
// per bucket it changes (records 'P' put or 'D' delete, applied in order; timer_buckets.h). A
// merged value holds only put records, in timer key order. A commit that schedules or cancels
// a hundred thousand timers therefore writes a few hundred RocksDB entries, not a hundred
// thousand.
//
// Header-only, no state; every function is thread-safe.
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "core/types.h"

namespace beckon::state::keys {

inline constexpr size_t kPartitionBytes = 4;
// Longest customer id a timer key can hold (the length is stored in 16 bits).
inline constexpr size_t kMaxTimerCustomerBytes = 0xFFFF;
// Starts with 0xFF: every partition's keys start with a partition number >= 0 (first byte below
// 0x80), so no partition's range (delete_partition) holds the marker.
inline constexpr std::string_view kLayoutKey = "\xff" "layout";
// The layout the store is in, recorded under kLayoutKey. It also names the newest customer-state
// encoding the store may hold (journey::CustomerStateCodec::kVersion), so that a release which
// cannot decode those states refuses the store at open instead of failing on each customer.
inline constexpr std::string_view kLayoutCurrent = "timer-buckets customer-state-2";
// The layout recorded before customer states had version 2: timer buckets, states of version 1.
// A writable open moves it to kLayoutCurrent (it may then hold states of both versions).
inline constexpr std::string_view kLayoutTimerBuckets = "timer-buckets";
inline constexpr char kOffsetTag = 0x01;
inline constexpr char kMetaTag = 0x02;

inline void put_be16(std::string& out, uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v));
}
inline void put_be32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
}
inline void put_be64(std::string& out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
}
inline uint16_t get_be16(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return static_cast<uint16_t>((u[0] << 8) | u[1]);
}
inline uint32_t get_be32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return (uint32_t{u[0]} << 24) | (uint32_t{u[1]} << 16) | (uint32_t{u[2]} << 8) | uint32_t{u[3]};
}
inline uint64_t get_be64(const char* p) {
  return (uint64_t{get_be32(p)} << 32) | uint64_t{get_be32(p + 4)};
}

inline uint32_t partition_bits(PartitionId p) { return static_cast<uint32_t>(p.value()); }

// The 4-byte prefix shared by every key of partition `p`.
inline std::string partition_prefix(PartitionId p) {
  std::string out;
  put_be32(out, partition_bits(p));
  return out;
}

inline PartitionId decode_partition(std::string_view key) {
  return PartitionId(static_cast<int32_t>(get_be32(key.data())));
}

// ---- customers -----------------------------------------------------------------------------

inline void encode_customer_key(PartitionId p, std::string_view customer, std::string& out) {
  out.clear();
  out.reserve(kPartitionBytes + customer.size());
  put_be32(out, partition_bits(p));
  out.append(customer);
}
inline std::string customer_key(PartitionId p, std::string_view customer) {
  std::string out;
  encode_customer_key(p, customer, out);
  return out;
}
// False when `key` is too short to be a customer key.
inline bool decode_customer_key(std::string_view key, PartitionId& p, std::string_view& customer) {
  if (key.size() < kPartitionBytes) return false;
  p = decode_partition(key);
  customer = key.substr(kPartitionBytes);
  return true;
}

// ---- timers --------------------------------------------------------------------------------

inline uint64_t due_bits(EventTime due) {
  return static_cast<uint64_t>(due.ms()) ^ (uint64_t{1} << 63);
}
inline EventTime due_from_bits(uint64_t bits) {
  return EventTime(static_cast<int64_t>(bits ^ (uint64_t{1} << 63)));
}

// Width of a timers CF bucket in due time: wide enough that one commit touches few buckets,
// narrow enough that reading the bucket at the head of the queue stays small.
inline constexpr uint64_t kTimerBucketMs = 60'000;
inline constexpr size_t kTimerBucketKeyBytes = kPartitionBytes + 8;
inline constexpr char kTimerPut = 'P';
inline constexpr char kTimerDelete = 'D';

inline uint64_t bucket_bits(uint64_t due_bits) { return due_bits - due_bits % kTimerBucketMs; }

inline void encode_timer_bucket_key(PartitionId p, uint64_t bucket, std::string& out) {
  out.clear();
  put_be32(out, partition_bits(p));
  put_be64(out, bucket);
}
inline std::string timer_bucket_key(PartitionId p, EventTime due) {
  std::string out;
  encode_timer_bucket_key(p, bucket_bits(due_bits(due)), out);
  return out;
}

// Appends the timer key (no partition). Customer ids longer than kMaxTimerCustomerBytes are cut
// to that length (callers validate).
inline void append_timer_key(std::string& out, EventTime due, std::string_view customer, uint64_t id) {
  if (customer.size() > kMaxTimerCustomerBytes) customer = customer.substr(0, kMaxTimerCustomerBytes);
  put_be64(out, due_bits(due));
  put_be16(out, static_cast<uint16_t>(customer.size()));
  out.append(customer);
  put_be64(out, id);
}
inline std::string timer_key(EventTime due, std::string_view customer, uint64_t id) {
  std::string out;
  append_timer_key(out, due, customer, id);
  return out;
}
// Bytes [from, from + n) of `s` (n <= 8) as a big-endian number, zero-padded past its end:
// numbers that compare as the bytes do, for sorts that read no string.
inline uint64_t be_prefix(std::string_view s, size_t from, size_t n = 8) {
  uint64_t v = 0;
  for (size_t i = from; i < from + n; ++i) v = (v << 8) | (i < s.size() ? static_cast<unsigned char>(s[i]) : 0u);
  return v;
}

// The first 24 bytes of a timer key (due time, customer id length, the id's first 14 bytes,
// zero-padded) as three numbers: two keys whose prefixes differ are in the order of their
// prefixes; equal prefixes need the rest of the keys. Sorts on it read no customer id.
struct TimerKeyPrefix {
  uint64_t due = 0;
  uint64_t customer0 = 0;  // length (16 bits), then bytes 0-5
  uint64_t customer1 = 0;  // bytes 6-13
  auto operator<=>(const TimerKeyPrefix&) const = default;
};
inline TimerKeyPrefix timer_key_prefix(EventTime due, std::string_view customer) {
  if (customer.size() > kMaxTimerCustomerBytes) customer = customer.substr(0, kMaxTimerCustomerBytes);
  return TimerKeyPrefix{due_bits(due), (static_cast<uint64_t>(customer.size()) << 48) | be_prefix(customer, 0, 6),
                        be_prefix(customer, 6)};
}

// The smallest timer key with due time >= `due`.
inline std::string timer_seek_key(EventTime due) {
  std::string out;
  put_be64(out, due_bits(due));
  return out;
}

struct DecodedTimerKey {
  EventTime due;
  std::string_view customer;  // points into the decoded bytes
  uint64_t id = 0;
};
// Reads one timer key at the start of `in`; its size into *size. nullopt when `in` does not
// start with a well-formed timer key.
inline std::optional<DecodedTimerKey> decode_timer_key(std::string_view in, size_t* size) {
  constexpr size_t kFixed = 8 + 2 + 8;
  if (in.size() < kFixed) return std::nullopt;
  const char* d = in.data();
  const size_t len = get_be16(d + 8);
  if (in.size() < kFixed + len) return std::nullopt;
  DecodedTimerKey out;
  out.due = due_from_bits(get_be64(d));
  out.customer = in.substr(10, len);
  out.id = get_be64(d + 10 + len);
  *size = kFixed + len;
  return out;
}

// ---- offsets and partition metadata ---------------------------------------------------------

inline std::string offset_key(PartitionId p, std::string_view topic) {
  std::string out;
  put_be32(out, partition_bits(p));
  out.push_back(kOffsetTag);
  out.append(topic);
  return out;
}
inline std::string meta_key(PartitionId p, std::string_view key) {
  std::string out;
  put_be32(out, partition_bits(p));
  out.push_back(kMetaTag);
  out.append(key);
  return out;
}
inline std::string encode_offset_value(Offset o) {
  std::string out;
  put_be64(out, static_cast<uint64_t>(o.value()));
  return out;
}
inline std::optional<Offset> decode_offset_value(std::string_view v) {
  if (v.size() != 8) return std::nullopt;
  return Offset(static_cast<int64_t>(get_be64(v.data())));
}

}  // namespace beckon::state::keys
