#include "dataplane/webhooks/webhook_job.h"

#include <gtest/gtest.h>

#include "dataplane/webhooks/queue/memory_queue.h"
#include "dataplane/webhooks/webhook_event.h"

namespace sockudo::dataplane::webhooks {
namespace {

TEST(WebhookJobTest, PayloadRoundTripKeepsBodyBytes) {
  WebhookJob job;
  job.app_id = "app-id";
  job.url = "http://127.0.0.1:1/hook";
  job.headers = {{"X-A", "1"}};
  job.time_ms = 1700000000000;
  base::Json data = *base::ParseJson(R"({"z":1.5,"1":"x","a":[1e21,0.1]})");
  job.events.push_back(ClientEvent("private-c", "client-e", &data, "1.1", "").object);
  const std::string body = job.Body();
  auto back = WebhookJob::FromPayload(job.ToPayload());
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->Body(), body);
  EXPECT_EQ(back->headers, job.headers);
  EXPECT_EQ(body, R"({"time_ms":1700000000000,"events":[{"name":"client_event","channel":)"
                  R"("private-c","event":"client-e","data":{"1":"x","z":1.5,"a":[1e+21,0.1]},)"
                  R"("socket_id":"1.1"}]})");
}

TEST(WebhookJobTest, BackoffDoublesAndCaps) {
  RetryPolicy p;
  EXPECT_EQ(p.BackoffMs(1), 1000);
  EXPECT_EQ(p.BackoffMs(2), 2000);
  EXPECT_EQ(p.BackoffMs(3), 4000);
  EXPECT_EQ(p.BackoffMs(10), 60000);
  RetryPolicy o = p.Overridden(*base::ParseJson(R"({"initial_backoff_ms":10,"max_backoff_ms":30,
                                                    "max_attempts":3,"enabled":true})"));
  EXPECT_EQ(o.BackoffMs(1), 10);
  EXPECT_EQ(o.BackoffMs(3), 30);
  EXPECT_EQ(o.max_attempts, 3);
}

TEST(WebhookJobTest, RetryableStatuses) {
  for (int s : {0, 500, 503, 408, 425, 429}) EXPECT_TRUE(Retryable(s)) << s;
  for (int s : {301, 400, 401, 404, 410}) EXPECT_FALSE(Retryable(s)) << s;
}

TEST(WebhookMemoryQueueTest, ClaimAckRetryDeadLetterAndBound) {
  MemoryQueue q(2);
  ASSERT_TRUE(q.Enqueue("a").ok());
  ASSERT_TRUE(q.Enqueue("b").ok());
  EXPECT_FALSE(q.Enqueue("c").ok());
  auto a = q.Claim(std::chrono::milliseconds(0));
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->payload, "a");
  q.Retry(*a, "a2", std::chrono::milliseconds(30));
  auto b = q.Claim(std::chrono::milliseconds(0));
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->payload, "b");
  q.DeadLetter(*b, "permanent");
  EXPECT_FALSE(q.Claim(std::chrono::milliseconds(0)).has_value());
  auto again = q.Claim(std::chrono::milliseconds(2000));  // due after 30 ms
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->payload, "a2");
  q.Ack(*again);
  QueueDepth d = q.Depth();
  EXPECT_EQ(d.wait + d.delayed + d.active, 0);
  EXPECT_EQ(d.dlq, 1);
}

}  // namespace
}  // namespace sockudo::dataplane::webhooks
