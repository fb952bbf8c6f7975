#include "speaker/send_queue.h"

#include <gtest/gtest.h>

namespace bgpcomm::speaker {
namespace {

std::vector<std::uint8_t> Bytes(std::size_t n, std::uint8_t fill) {
  return std::vector<std::uint8_t>(n, fill);
}

TEST(SendQueueTest, WritesMessagesInOrderAcrossPartialWrites) {
  SendQueue q(100);
  ASSERT_TRUE(q.Push(Bytes(3, 1)));
  ASSERT_TRUE(q.Push(Bytes(2, 2)));
  EXPECT_EQ(q.bytes(), 5u);
  EXPECT_EQ(q.Next().size(), 3u);
  q.Consume(2);
  EXPECT_TRUE(q.mid_message());
  ASSERT_EQ(q.Next().size(), 1u);
  EXPECT_EQ(q.Next()[0], 1);
  q.Consume(1);
  EXPECT_FALSE(q.mid_message());
  ASSERT_EQ(q.Next().size(), 2u);
  EXPECT_EQ(q.Next()[0], 2);
  q.Consume(2);
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.bytes(), 0u);
  EXPECT_TRUE(q.Next().empty());
}

TEST(SendQueueTest, RefusesPastTheBoundAndKeepsWhatIsQueued) {
  SendQueue q(10);
  ASSERT_TRUE(q.Push(Bytes(6, 1)));
  EXPECT_FALSE(q.Push(Bytes(5, 2)));
  EXPECT_EQ(q.bytes(), 6u);
  EXPECT_EQ(q.messages(), 1u);
  ASSERT_TRUE(q.Push(Bytes(4, 3)));  // exactly at the bound
  EXPECT_EQ(q.bytes(), 10u);
  // A NOTIFICATION goes in whatever the bound.
  q.PushUnbounded(Bytes(21, 4));
  EXPECT_EQ(q.bytes(), 31u);
}

TEST(SendQueueTest, DropUnstartedKeepsAHalfWrittenMessageSoFramingHolds) {
  SendQueue q(100);
  ASSERT_TRUE(q.Push(Bytes(4, 1)));
  ASSERT_TRUE(q.Push(Bytes(4, 2)));
  ASSERT_TRUE(q.Push(Bytes(4, 3)));
  q.Consume(1);
  q.DropUnstarted();
  EXPECT_EQ(q.messages(), 1u);
  EXPECT_EQ(q.bytes(), 3u);
  q.PushUnbounded(Bytes(2, 9));
  EXPECT_EQ(q.Next().size(), 3u);
  q.Consume(3);
  ASSERT_EQ(q.Next().size(), 2u);
  EXPECT_EQ(q.Next()[0], 9);

  // A message handed to the socket stays, even before any byte of it is written.
  SendQueue writing(100);
  ASSERT_TRUE(writing.Push(Bytes(4, 1)));
  ASSERT_TRUE(writing.Push(Bytes(4, 2)));
  EXPECT_EQ(writing.BeginWrite().size(), 4u);
  writing.DropUnstarted();
  EXPECT_EQ(writing.messages(), 1u);
  writing.PushUnbounded(Bytes(2, 9));
  writing.EndWrite(4);
  ASSERT_EQ(writing.Next().size(), 2u);
  EXPECT_EQ(writing.Next()[0], 9);

  SendQueue fresh(100);
  ASSERT_TRUE(fresh.Push(Bytes(4, 1)));
  ASSERT_TRUE(fresh.Push(Bytes(4, 2)));
  fresh.DropUnstarted();
  EXPECT_TRUE(fresh.empty());
  EXPECT_EQ(fresh.bytes(), 0u);
}

}  // namespace
}  // namespace bgpcomm::speaker
