#include "speaker/big_endian.h"

#include <gtest/gtest.h>

#include <array>
#include <vector>

namespace bgpcomm::speaker::be {
namespace {

TEST(BigEndianTest, WritersAppendMostSignificantOctetFirst) {
  std::vector<std::uint8_t> out;
  PutU8(out, 0x01);
  PutU16(out, 0x0203);
  PutU32(out, 0x04050607);
  EXPECT_EQ(out, (std::vector<std::uint8_t>{1, 2, 3, 4, 5, 6, 7}));
}

TEST(BigEndianTest, StoreU16OverwritesInsideTheBufferOnly) {
  std::vector<std::uint8_t> buffer(3, 0);
  EXPECT_TRUE(StoreU16(buffer, 1, 0xabcd));
  EXPECT_EQ(buffer, (std::vector<std::uint8_t>{0, 0xab, 0xcd}));
  EXPECT_FALSE(StoreU16(buffer, 2, 0x1111));
  EXPECT_FALSE(StoreU16(buffer, 99, 0x1111));
  EXPECT_EQ(buffer, (std::vector<std::uint8_t>{0, 0xab, 0xcd}));
}

TEST(BigEndianTest, ReaderReadsInOrder) {
  const std::array<std::uint8_t, 7> data{1, 2, 3, 4, 5, 6, 7};
  Reader reader(data);
  EXPECT_EQ(reader.ReadU8(), 1);
  EXPECT_EQ(reader.ReadU16(), 0x0203);
  EXPECT_EQ(reader.ReadU32(), 0x04050607u);
  EXPECT_TRUE(reader.empty());
  EXPECT_EQ(reader.offset(), 7u);
}

TEST(BigEndianTest, ShortReadsFailAndLeaveTheCursor) {
  const std::array<std::uint8_t, 3> data{1, 2, 3};
  Reader reader(data);
  EXPECT_EQ(reader.ReadU32(), std::nullopt);
  EXPECT_EQ(reader.ReadBytes(4), std::nullopt);
  EXPECT_EQ(reader.remaining(), 3u);
  auto bytes = reader.ReadBytes(2);
  ASSERT_TRUE(bytes);
  EXPECT_EQ(bytes->size(), 2u);
  EXPECT_EQ(reader.ReadU16(), std::nullopt);
  EXPECT_EQ(reader.ReadU8(), 3);
  EXPECT_EQ(reader.ReadU8(), std::nullopt);
  EXPECT_EQ(LoadU16(data, 2), std::nullopt);
  EXPECT_EQ(LoadU16(data, 1), 0x0203);
}

}  // namespace
}  // namespace bgpcomm::speaker::be
