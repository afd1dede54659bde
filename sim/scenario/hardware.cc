#include "sim/scenario/hardware.h"

namespace ksim {
namespace {

std::vector<HardwareProfile> MakeProfiles() {
  std::vector<HardwareProfile> out;
  // A 2014-era commodity server: 2x6-core Xeon, 1 GbE, 7200 rpm SATA disks (~150 MB/s
  // sequential, ~8 ms average access), 32 GiB of page cache. LinkedIn's 2014 Kafka benchmark
  // ran on machines of this class.
  HardwareProfile c;
  c.name = "commodity-2014";
  c.cpu_cores = 12;
  c.nic_bits_per_second = 1'000'000'000;
  c.disk_read_bytes_per_second = 150'000'000;
  c.disk_write_bytes_per_second = 150'000'000;
  c.disk_read_latency_ns = 8 * kMillisecond;
  c.disk_write_latency_ns = 8 * kMillisecond;
  c.fsync_latency_ns = 8 * kMillisecond;
  c.page_cache_bytes = 32LL << 30;
  c.memory_bytes_per_second = 10'000'000'000;
  out.push_back(c);
  // A current cloud instance with local NVMe: 16 vCPUs, 25 Gb/s network, NVMe SSD at
  // ~2.5 GB/s write and ~3 GB/s read with ~100 us latency, 64 GiB of page cache.
  HardwareProfile n;
  n.name = "cloud-nvme";
  n.cpu_cores = 16;
  n.nic_bits_per_second = 25'000'000'000;
  n.disk_read_bytes_per_second = 3'000'000'000;
  n.disk_write_bytes_per_second = 2'500'000'000;
  n.disk_read_latency_ns = 100 * kMicrosecond;
  n.disk_write_latency_ns = 30 * kMicrosecond;
  n.fsync_latency_ns = 50 * kMicrosecond;
  n.page_cache_bytes = 64LL << 30;
  n.memory_bytes_per_second = 20'000'000'000;
  out.push_back(n);
  return out;
}

const std::vector<HardwareProfile>& Profiles() {
  static const std::vector<HardwareProfile> profiles = MakeProfiles();
  return profiles;
}

}  // namespace

const HardwareProfile* FindHardwareProfile(const std::string& name) {
  for (const HardwareProfile& p : Profiles()) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

std::vector<std::string> HardwareProfileNames() {
  std::vector<std::string> names;
  for (const HardwareProfile& p : Profiles()) names.push_back(p.name);
  return names;
}

}  // namespace ksim
