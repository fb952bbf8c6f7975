// The bounded output queue of one BGP connection: whole messages in, bytes out, in order.
// Pure bookkeeping (no socket): the driver asks for the bytes to write next and reports how
// many were written. A message is never split by another: whatever is appended goes after
// every byte already queued, so a NOTIFICATION can never land inside a half-written UPDATE.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <span>
#include <vector>

namespace bgpcomm::speaker {

class SendQueue {
 public:
  // `max_bytes` bounds what may wait unwritten; Push() refuses beyond it.
  explicit SendQueue(std::size_t max_bytes) : max_bytes_(max_bytes) {}

  // Appends one message. False (and nothing queued) when it would take the queue past
  // max_bytes: the peer is not reading fast enough.
  bool Push(std::vector<std::uint8_t> message);
  // Appends one message whatever the bound (the last message before a close: NOTIFICATION).
  void PushUnbounded(std::vector<std::uint8_t> message);
  // Drops every message not yet started; a message partly written or being written stays,
  // so that the stream remains framed for what is pushed after it.
  void DropUnstarted();

  // The bytes to write next (the rest of the front message); empty when nothing waits.
  std::span<const std::uint8_t> Next() const;
  // Next() is handed to the socket: it stays valid, and queued, until EndWrite().
  std::span<const std::uint8_t> BeginWrite();
  // The write begun last wrote `n` bytes (0 when it failed).
  void EndWrite(std::size_t n);
  // `n` bytes of Next() were written.
  void Consume(std::size_t n);

  bool empty() const { return messages_.empty(); }
  std::size_t bytes() const { return bytes_; }
  std::size_t messages() const { return messages_.size(); }
  std::size_t max_bytes() const { return max_bytes_; }
  // True while the front message is partly written or being written.
  bool mid_message() const { return front_written_ != 0 || in_flight_; }

 private:
  std::size_t max_bytes_;
  std::deque<std::vector<std::uint8_t>> messages_;
  std::size_t front_written_ = 0;
  bool in_flight_ = false;
  std::size_t bytes_ = 0;  // unwritten bytes over every message
};

}  // namespace bgpcomm::speaker
