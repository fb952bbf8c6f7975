#include "speaker/send_queue.h"

#include <utility>

namespace bgpcomm::speaker {

bool SendQueue::Push(std::vector<std::uint8_t> message) {
  if (bytes_ + message.size() > max_bytes_) return false;
  PushUnbounded(std::move(message));
  return true;
}

void SendQueue::PushUnbounded(std::vector<std::uint8_t> message) {
  if (message.empty()) return;
  bytes_ += message.size();
  messages_.push_back(std::move(message));
}

void SendQueue::DropUnstarted() {
  if (messages_.empty()) return;
  std::size_t keep = mid_message() ? 1 : 0;
  while (messages_.size() > keep) {
    bytes_ -= messages_.back().size();
    messages_.pop_back();
  }
  if (keep == 1) bytes_ = messages_.front().size() - front_written_;
}

std::span<const std::uint8_t> SendQueue::Next() const {
  if (messages_.empty()) return {};
  return std::span<const std::uint8_t>(messages_.front()).subspan(front_written_);
}

std::span<const std::uint8_t> SendQueue::BeginWrite() {
  in_flight_ = !messages_.empty();
  return Next();
}

void SendQueue::EndWrite(std::size_t n) {
  in_flight_ = false;
  Consume(n);
}

void SendQueue::Consume(std::size_t n) {
  while (n > 0 && !messages_.empty()) {
    std::size_t left = messages_.front().size() - front_written_;
    std::size_t take = n < left ? n : left;
    front_written_ += take;
    bytes_ -= take;
    n -= take;
    if (front_written_ == messages_.front().size()) {
      messages_.pop_front();
      front_written_ = 0;
    }
  }
}

}  // namespace bgpcomm::speaker
