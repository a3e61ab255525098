#include "common/crypto/hmac.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstring>
#include <initializer_list>
#include <memory>
#include <stdexcept>

namespace sockudo::crypto {
namespace {

std::string ToHex(const unsigned char* data, size_t len) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(len * 2, '0');
  for (size_t i = 0; i < len; ++i) {
    out[2 * i] = kHex[data[i] >> 4];
    out[2 * i + 1] = kHex[data[i] & 0xF];
  }
  return out;
}

// OpenSSL 3 looks an algorithm up (under a lock) on every implicit use; fetch each digest once.
const EVP_MD* Sha256() {
  static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}
const EVP_MD* Md5() {
  static EVP_MD* md = EVP_MD_fetch(nullptr, "MD5", nullptr);
  return md;
}

// One digest context per thread, reused: creating one per hash is an allocation and a provider
// lookup each time.
EVP_MD_CTX* ThreadContext() {
  struct Free {
    void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
  };
  thread_local std::unique_ptr<EVP_MD_CTX, Free> ctx(EVP_MD_CTX_new());
  if (!ctx) throw std::runtime_error("EVP_MD_CTX_new failed");
  return ctx.get();
}

// digest(parts...) into `out`; returns its length.
unsigned int Digest(const EVP_MD* md, std::initializer_list<std::string_view> parts,
                    unsigned char* out) {
  EVP_MD_CTX* ctx = ThreadContext();
  unsigned int len = 0;
  bool ok = EVP_DigestInit_ex(ctx, md, nullptr) == 1;
  for (std::string_view part : parts) ok = ok && EVP_DigestUpdate(ctx, part.data(), part.size());
  if (!ok || EVP_DigestFinal_ex(ctx, out, &len) != 1) throw std::runtime_error("digest failed");
  return len;
}

std::string_view View(const unsigned char* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace

// HMAC (RFC 2104) over the prefetched SHA-256. OpenSSL 3's one-shot HMAC() fetches the MAC and
// the digest by name on every call: that was a tenth of the server's CPU per signed HTTP request.
std::string HmacSha256Hex(std::string_view key, std::string_view message) {
  constexpr size_t kBlock = 64;  // SHA-256 block size
  unsigned char k[kBlock] = {};
  if (key.size() > kBlock) {
    Digest(Sha256(), {key}, k);
  } else if (!key.empty()) {
    std::memcpy(k, key.data(), key.size());
  }
  unsigned char pad[kBlock];
  for (size_t i = 0; i < kBlock; ++i) pad[i] = k[i] ^ 0x36;
  unsigned char inner[EVP_MAX_MD_SIZE];
  const unsigned int inner_len = Digest(Sha256(), {View(pad, kBlock), message}, inner);
  for (size_t i = 0; i < kBlock; ++i) pad[i] = k[i] ^ 0x5c;
  unsigned char digest[EVP_MAX_MD_SIZE];
  const unsigned int len = Digest(Sha256(), {View(pad, kBlock), View(inner, inner_len)}, digest);
  OPENSSL_cleanse(k, sizeof k);
  OPENSSL_cleanse(pad, sizeof pad);
  return ToHex(digest, len);
}

std::string Md5Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  return ToHex(digest, Digest(Md5(), {data}, digest));
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

uint64_t SecureRandom(uint64_t bound) {
  // Rejection sampling keeps the distribution uniform.
  const uint64_t limit = UINT64_MAX - (UINT64_MAX % bound);
  uint64_t value;
  do {
    if (RAND_bytes(reinterpret_cast<unsigned char*>(&value), sizeof(value)) != 1) {
      throw std::runtime_error("RAND_bytes failed");
    }
  } while (value >= limit);
  return value % bound;
}

}  // namespace sockudo::crypto
