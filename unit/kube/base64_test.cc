#include "kube/base64.h"

#include <gtest/gtest.h>

namespace bgpcomm::kube {
namespace {

TEST(Base64Test, Rfc4648Vectors) {
  // RFC 4648 §10, both ways.
  const std::pair<std::string, std::string> vectors[] = {
      {"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},        {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
      {std::string("\x00\xff", 2), "AP8="}};
  for (const auto& [bytes, text] : vectors) {
    EXPECT_EQ(EncodeBase64(bytes), text);
    EXPECT_EQ(DecodeBase64(text).value(), bytes) << text;
  }
}

TEST(Base64Test, SkipsLineBreaksAsGoDoes) {
  EXPECT_EQ(DecodeBase64("aGVs\nbG8h").value(), "hello!");
  EXPECT_EQ(DecodeBase64("aGVs\r\nbG8=\n").value(), "hello");
}

TEST(Base64Test, RejectsMalformedInputSayingWhy) {
  EXPECT_EQ(DecodeBase64("aGVsbG8").error(), "not base64: length is not a multiple of 4");
  EXPECT_EQ(DecodeBase64("a===").error(), "not base64: '=' at offset 1");
  EXPECT_EQ(DecodeBase64("aG=sbG8=").error(), "not base64: '=' at offset 2");
  EXPECT_EQ(DecodeBase64("Zm9*").error(), "not base64: unexpected character at offset 3");
  // EVP_DecodeBlock alone would trim these spaces and accept '=' inside.
  for (const char* bad : {"Zg", "Zg=", "Z===", "Zg==Zm9v", "Z=g=", " Zm9v", "Zm9v ", "Zm 9v"}) {
    EXPECT_FALSE(DecodeBase64(bad)) << bad;
  }
}

}  // namespace
}  // namespace bgpcomm::kube
