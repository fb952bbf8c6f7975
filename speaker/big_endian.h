// The one big-endian (network byte order) helper of the speaker: appending writers for
// building messages and a bounds-checked reader for parsing untrusted bytes. Nothing here
// can read or write outside the given buffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace bgpcomm::speaker::be {

// Appends `value` to `out`.
inline void PutU8(std::vector<std::uint8_t>& out, std::uint8_t value) { out.push_back(value); }

// Appends `value` to `out`, most significant octet first.
inline void PutU16(std::vector<std::uint8_t>& out, std::uint16_t value) {
  out.push_back(static_cast<std::uint8_t>(value >> 8));
  out.push_back(static_cast<std::uint8_t>(value));
}

// Appends `value` to `out`, most significant octet first.
inline void PutU32(std::vector<std::uint8_t>& out, std::uint32_t value) {
  out.push_back(static_cast<std::uint8_t>(value >> 24));
  out.push_back(static_cast<std::uint8_t>(value >> 16));
  out.push_back(static_cast<std::uint8_t>(value >> 8));
  out.push_back(static_cast<std::uint8_t>(value));
}

// Appends `bytes` to `out`.
inline void PutBytes(std::vector<std::uint8_t>& out, std::span<const std::uint8_t> bytes) {
  out.insert(out.end(), bytes.begin(), bytes.end());
}

// Overwrites the two octets at `offset` with `value` (for length fields filled in after
// the body). Returns false, writing nothing, when they do not lie inside `buffer`.
inline bool StoreU16(std::span<std::uint8_t> buffer, std::size_t offset, std::uint16_t value) {
  if (offset > buffer.size() || buffer.size() - offset < 2) return false;
  buffer[offset] = static_cast<std::uint8_t>(value >> 8);
  buffer[offset + 1] = static_cast<std::uint8_t>(value);
  return true;
}

// Reads the two octets at `offset`; nullopt when they do not lie inside `buffer`.
inline std::optional<std::uint16_t> LoadU16(std::span<const std::uint8_t> buffer,
                                            std::size_t offset) {
  if (offset > buffer.size() || buffer.size() - offset < 2) return std::nullopt;
  return static_cast<std::uint16_t>((std::uint16_t{buffer[offset]} << 8) | buffer[offset + 1]);
}

// A cursor over untrusted bytes. Every read checks the remaining length first; a read
// that does not fit returns nullopt and leaves the cursor where it was.
class Reader {
 public:
  explicit Reader(std::span<const std::uint8_t> data) : data_(data) {}

  // Octets not yet read.
  std::size_t remaining() const { return data_.size() - offset_; }
  bool empty() const { return remaining() == 0; }
  // Octets read so far.
  std::size_t offset() const { return offset_; }
  // The unread octets (not consumed).
  std::span<const std::uint8_t> rest() const { return data_.subspan(offset_); }

  std::optional<std::uint8_t> ReadU8() {
    if (remaining() < 1) return std::nullopt;
    return data_[offset_++];
  }

  std::optional<std::uint16_t> ReadU16() {
    auto value = LoadU16(data_, offset_);
    if (value) offset_ += 2;
    return value;
  }

  std::optional<std::uint32_t> ReadU32() {
    if (remaining() < 4) return std::nullopt;
    std::uint32_t value = (std::uint32_t{data_[offset_]} << 24) |
                          (std::uint32_t{data_[offset_ + 1]} << 16) |
                          (std::uint32_t{data_[offset_ + 2]} << 8) | data_[offset_ + 3];
    offset_ += 4;
    return value;
  }

  // The next `count` octets as a view into the underlying buffer.
  std::optional<std::span<const std::uint8_t>> ReadBytes(std::size_t count) {
    if (remaining() < count) return std::nullopt;
    auto bytes = data_.subspan(offset_, count);
    offset_ += count;
    return bytes;
  }

 private:
  std::span<const std::uint8_t> data_;
  std::size_t offset_ = 0;
};

}  // namespace bgpcomm::speaker::be
