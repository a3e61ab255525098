// File: cluster_slot.h
// The Redis Cluster key slot: CRC16-CCITT/XMODEM (poly 0x1021, init 0, no reflection, no final xor)
// of the key, mod 16384. When the key holds a hash tag (a '{' followed later by a '}' with at least
// one byte between), only the bytes between the first '{' and the first '}' after it are hashed, as
// Redis does.
//
//   Crc16("123456789")               -> 0x31C3
//   KeySlot("{user1000}.following")  == KeySlot("user1000")
#pragma once

#include <cstdint>
#include <string_view>

namespace sockudo::bus::redis_cluster {

inline constexpr int kSlotCount = 16384;

uint16_t Crc16(std::string_view data);
// The slot of a key or (sharded pub/sub) channel name, in [0, 16384).
uint16_t KeySlot(std::string_view key);

}  // namespace sockudo::bus::redis_cluster
