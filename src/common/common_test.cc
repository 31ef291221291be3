#include <filesystem>
#include <string>

#include <unistd.h>

#include "common/bytes.h"
#include "common/crc32c.h"
#include "common/fs.h"
#include "common/hex.h"
#include "gtest/gtest.h"

namespace signaldb {
namespace {

TEST(HexTest, RoundTripsAndRejectsBadDigits) {
  std::string bytes("\x00\x01\xab\xff", 4);
  EXPECT_EQ(HexEncode(bytes), "0001abff");
  EXPECT_EQ(HexDecode("0001ABff").value(), bytes);
  EXPECT_FALSE(HexDecode("abc").has_value());
  EXPECT_FALSE(HexDecode("zz").has_value());
}

TEST(Base64Test, MatchesKnownVectors) {
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64Decode("Zm9vYg==").value(), "foob");
  EXPECT_FALSE(Base64Decode("Zm9v*").has_value());
  // The URL-safe alphabet and missing padding read the same.
  EXPECT_EQ(Base64Decode("-_8").value(), Base64Decode("+/8=").value());
  EXPECT_FALSE(Base64Decode("Zm9vY").has_value());  // a lone trailing character
}

TEST(PercentEncodeTest, KeepsOnlyUnreserved) {
  EXPECT_EQ(PercentEncode("acme-1.x_~"), "acme-1.x_~");
  EXPECT_EQ(PercentEncode("../a b/{ }"), "..%2Fa%20b%2F%7B%20%7D");
  EXPECT_EQ(PercentEncode("../a b/{ }", /*keep_slash=*/true), "../a%20b/%7B%20%7D");
  EXPECT_EQ(PercentEncode("\xC3\xA9=&+"), "%C3%A9%3D%26%2B");
}

// The protobuf encoding guide's examples: 150 is 96 01, zigzag maps -1 to 1
// and -2 to 3; fixed-width integers are little-endian.
TEST(BytesTest, VarintsZigZagAndLittleEndian) {
  std::string out;
  AppendVarint(out, 150);
  AppendVarint(out, 0);
  AppendVarint(out, UINT64_MAX);
  EXPECT_EQ(out, std::string("\x96\x01\x00", 3) + std::string(9, '\xff') + "\x01");
  EXPECT_EQ(ZigZag(0), 0u);
  EXPECT_EQ(ZigZag(-1), 1u);
  EXPECT_EQ(ZigZag(1), 2u);
  EXPECT_EQ(ZigZag(-2), 3u);
  EXPECT_EQ(ZigZag(INT64_MIN), UINT64_MAX);
  out.clear();
  AppendFixed<uint32_t>(out, 0x01020304);
  AppendFixed<uint16_t>(out, 0xA0B0);
  EXPECT_EQ(out, "\x04\x03\x02\x01\xB0\xA0");
}

TEST(Crc32cTest, MatchesStandardCheckValue) {
  EXPECT_EQ(crc32c::Value("123456789"), 0xe3069283u);
  // 32 bytes of zeros, from RFC 3720 B.4.
  EXPECT_EQ(crc32c::Value(std::string(32, '\0')), 0x8a9136aau);
  std::string long_text(1000, 'x');
  EXPECT_EQ(crc32c::Extend(crc32c::Value(long_text.substr(0, 333)), long_text.substr(333)),
            crc32c::Value(long_text));
  uint32_t c = crc32c::Value("abc");
  EXPECT_NE(crc32c::Mask(c), c);
  EXPECT_EQ(crc32c::Unmask(crc32c::Mask(c)), c);
}

TEST(FileSystemTest, AtomicWriteReplacesContent) {
  auto dir = std::filesystem::temp_directory_path() / ("sdb_fs_test_" + std::to_string(::getpid()));
  FileSystem* fs = DefaultFileSystem();
  ASSERT_TRUE(fs->CreateDirs(dir.string()).ok());
  std::string path = (dir / "f").string();
  ASSERT_TRUE(fs->WriteFileAtomic(path, "one").ok());
  ASSERT_TRUE(fs->WriteFileAtomic(path, "two").ok());
  EXPECT_EQ(fs->ReadFile(path).value(), "two");
  EXPECT_FALSE(fs->Exists(path + ".tmp"));
  auto names = fs->ListDir(dir.string());
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(names->size(), 1u);
  EXPECT_EQ(fs->ReadFile((dir / "missing").string()).status().code(), absl::StatusCode::kNotFound);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace signaldb
