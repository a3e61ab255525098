#include "controlplane/auth/token_authenticator.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

namespace sockudo::controlplane::auth {
namespace {

TEST(TokenAuthenticatorTest, ChecksBearerToken) {
  TokenAuthenticator auth(std::string("s3cret"));
  EXPECT_TRUE(auth.enabled());
  EXPECT_TRUE(auth.Check("Bearer s3cret").ok());
  EXPECT_TRUE(auth.Check("bearer s3cret").ok());
  EXPECT_EQ(auth.Check("").code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(auth.Check("Bearer s3cre").code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(auth.Check("Bearer s3cret2").code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(auth.Check("Basic s3cret").code(), absl::StatusCode::kUnauthenticated);
}

TEST(TokenAuthenticatorTest, NoTokenAcceptsEverything) {
  TokenAuthenticator auth(std::nullopt);
  EXPECT_FALSE(auth.enabled());
  EXPECT_TRUE(auth.Check("").ok());
}

TEST(TokenAuthenticatorTest, TokenFromConfigAndFile) {
  config::ControlPlaneConfig config;
  EXPECT_FALSE(TokenAuthenticator::TokenFromConfig(config)->has_value());
  config.auth_token = " abc\n";
  EXPECT_EQ(**TokenAuthenticator::TokenFromConfig(config), "abc");

  config.auth_token.reset();
  const std::string path = ::testing::TempDir() + "/cp_token";
  std::ofstream(path) << "from-file\n";
  config.auth_token_file = path;
  EXPECT_EQ(**TokenAuthenticator::TokenFromConfig(config), "from-file");
  std::ofstream(path) << "  \n";
  EXPECT_EQ(TokenAuthenticator::TokenFromConfig(config).status().code(),
            absl::StatusCode::kInvalidArgument);
  std::remove(path.c_str());
  EXPECT_EQ(TokenAuthenticator::TokenFromConfig(config).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace sockudo::controlplane::auth
