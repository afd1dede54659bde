// Serializers (Kafka's built-in String/Integer/Long/ByteArray/Bytes serializers, by class name
// and short name) and the producer interceptor chain with the two shipped examples.
#include "engine/client/producer/serializer.h"

#include <gtest/gtest.h>

#include "engine/client/producer/interceptor.h"
#include "sim/host/host.h"
#include "sim/kernel/kernel.h"
#include "sim/net/network.h"

namespace ksim {
namespace {

constexpr const char* kPkg = "org.apache.kafka.common.serialization.";

SerializedData Ser(const std::string& name, const Datum& d) {
  auto s = MakeSerializer(name);
  EXPECT_TRUE(s.ok()) << s.status();
  auto out = SerializeField(**s, name, false, "t", d);
  EXPECT_TRUE(out.ok()) << out.status();
  return *out;
}

TEST(SerializerTest, BuiltInsMatchKafkasEncodings) {
  EXPECT_EQ(Ser(std::string(kPkg) + "StringSerializer", Datum::String("héllo")).bytes, "héllo");
  // IntegerSerializer and LongSerializer are big-endian two's complement.
  EXPECT_EQ(Ser(std::string(kPkg) + "IntegerSerializer", Datum::Int(258)).bytes,
            std::string("\x00\x00\x01\x02", 4));
  EXPECT_EQ(Ser("integer", Datum::Int(-1)).bytes, std::string("\xff\xff\xff\xff", 4));
  EXPECT_EQ(Ser(std::string(kPkg) + "LongSerializer", Datum::Long(0x0102030405060708)).bytes,
            std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8));
  EXPECT_EQ(Ser(std::string(kPkg) + "ByteArraySerializer", Datum::Bytes(std::string("\0a", 2))).bytes,
            std::string("\0a", 2));
  EXPECT_EQ(Ser(std::string(kPkg) + "BytesSerializer", Datum::Bytes("xy")).size(), 2);
}

TEST(SerializerTest, ClientCpuFollowsTheEncodingWork) {
  auto str = *MakeSerializer("string");
  auto lng = *MakeSerializer("long");
  auto arr = *MakeSerializer("bytearray");
  // UTF-8 encoding is a pass over the bytes; numbers are a fixed small cost; byte[] is handed
  // over as is.
  EXPECT_EQ(str->CpuNs(Ser("string", Datum::String(std::string(1000, 'x')))), 500);
  EXPECT_EQ(lng->CpuNs(Ser("long", Datum::Long(7))), 5);
  EXPECT_EQ(arr->CpuNs(Ser("bytearray", Datum::Bytes(std::string(1000, 'x')))), 0);
  EXPECT_EQ(str->CpuNs(SerializedData{}), 0);  // null
}

TEST(SerializerTest, NullStaysNullAndSyntheticBytesCountButAreNotStored) {
  SerializedData n = Ser("string", Datum::Null());
  EXPECT_TRUE(n.is_null);
  EXPECT_EQ(n.size(), -1);
  Datum v = Datum::SyntheticString(1000);
  v.text = "1700000000000,";
  SerializedData s = Ser("string", v);
  EXPECT_EQ(s.bytes, "1700000000000,");
  EXPECT_EQ(s.size(), 1014);
  EXPECT_EQ(Ser("bytes", Datum::SyntheticBytes(64)).size(), 64);
}

TEST(SerializerTest, WrongTypeIsKafkasSerializationException) {
  auto s = MakeSerializer(std::string(kPkg) + "IntegerSerializer");
  ASSERT_TRUE(s.ok());
  auto out = SerializeField(**s, std::string(kPkg) + "IntegerSerializer", true, "t",
                            Datum::String("k"));
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().message(),
            "SerializationException: Can't convert key of class java.lang.String to class "
            "org.apache.kafka.common.serialization.IntegerSerializer specified in key.serializer");
}

TEST(SerializerTest, UnknownNamesGetASuggestionAndCustomOnesRegister) {
  auto bad = MakeSerializer("org.apache.kafka.common.serialization.StringSerialiser");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("did you mean "
                                        "'org.apache.kafka.common.serialization.StringSerializer'"),
            std::string::npos);
  struct Upper final : Serializer {
    absl::StatusOr<SerializedData> Serialize(const std::string&, const Datum& d) override {
      if (d.is_null()) return SerializedData{};
      std::string s = d.text;
      for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      return SerializedData{false, s, 0};
    }
    Datum::Kind accepts() const override { return Datum::Kind::kString; }
  };
  RegisterSerializer("com.example.UpperSerializer", [] { return std::make_unique<Upper>(); });
  EXPECT_EQ(Ser("com.example.UpperSerializer", Datum::String("abc")).bytes, "ABC");
}

struct OneHost {
  OneHost() : net(kernel) {
    node = kernel.AddNode("client", nullptr);
    net.AddNode(node, {});
    host = std::make_unique<Host>(kernel, net, node, nullptr, 0);
    kernel.Start(node);
  }
  ~OneHost() { kernel.Shutdown(); }
  Kernel kernel;
  Network net;
  NodeId node;
  std::unique_ptr<Host> host;
};

TEST(InterceptorTest, ShippedExamplesPrependTimestampAndCountOutcomes) {
  OneHost w;
  ASSERT_TRUE(ValidateProducerInterceptors({"ksim.examples.TimeStampPrependerInterceptor",
                                            "ksim.examples.CounterInterceptor"})
                  .ok());
  w.kernel.RunUntil(1234 * kMillisecond);
  ProducerInterceptors chain(*w.host, {"ksim.examples.TimeStampPrependerInterceptor",
                                       "ksim.examples.CounterInterceptor"});
  SimRecord r;
  r.topic = "t";
  r.value = Datum::String("payload");
  r.record_id = 42;
  SimRecord out = chain.OnSend(r);
  EXPECT_EQ(out.value.text, "1234,payload");
  EXPECT_EQ(out.record_id, 42u);
  RecordMetadata md{TopicPartition{"t", 0}, 7, 1234};
  chain.OnAcknowledgement(md, absl::OkStatus());
  chain.OnAcknowledgement(md, absl::OkStatus());
  chain.OnSendError(r, -1, absl::UnavailableError("NOT_ENOUGH_REPLICAS"));
  chain.Close();
  ASSERT_EQ(chain.Reports().size(), 1u);
  EXPECT_EQ(chain.Reports()[0],
            "ksim.examples.CounterInterceptor: success count: 2, fail count: 1");
}

TEST(InterceptorTest, AFailingOnSendIsSkippedAndUnknownNamesAreRefused) {
  OneHost w;
  ProducerInterceptors chain(*w.host, {"timestamp-prepender", "counter"});
  SimRecord r;
  r.topic = "t";
  r.value = Datum::Long(5);  // the prepender only takes strings: it fails, the record goes on
  SimRecord out = chain.OnSend(r);
  EXPECT_EQ(out.value.kind, Datum::Kind::kLong);
  EXPECT_EQ(out.value.number, 5);
  absl::Status bad = ValidateProducerInterceptors({"ksim.examples.CountInterceptor"});
  EXPECT_TRUE(absl::IsNotFound(bad));
  EXPECT_NE(bad.message().find("did you mean 'ksim.examples.CounterInterceptor'"),
            std::string::npos);
}

}  // namespace
}  // namespace ksim
