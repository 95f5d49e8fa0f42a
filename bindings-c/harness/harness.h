/* The C harness: compiled against include/anchor_webhooks.h only (see bindings-c/test.sh). */
#ifndef ANCHOR_HARNESS_H
#define ANCHOR_HARNESS_H

#define _POSIX_C_SOURCE 200809L
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anchor_webhooks.h"

extern int harness_failures_in_test;

/* The snake_case name of a result, NUL-terminated, for messages and comparisons. */
const char *result_name(anchor_result result);

#define CHECK(cond, ...)                                                                   \
  do {                                                                                     \
    if (!(cond)) {                                                                         \
      harness_failures_in_test++;                                                          \
      fprintf(stderr, "    FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);                  \
      fprintf(stderr, __VA_ARGS__);                                                        \
      fputc('\n', stderr);                                                                 \
    }                                                                                      \
  } while (0)

#define CHECK_RESULT(call, expected)                                                       \
  do {                                                                                     \
    anchor_result got_ = (call);                                                           \
    anchor_result want_ = (expected);                                                      \
    if (got_ != want_) {                                                                   \
      harness_failures_in_test++;                                                          \
      fprintf(stderr, "    FAIL %s:%d: %s returned %s (%d), expected %s (%d)\n", __FILE__, \
              __LINE__, #call, result_name(got_), (int)got_, result_name(want_),           \
              (int)want_);                                                                 \
    }                                                                                      \
  } while (0)

/* Whether a view holds exactly `expected` (NUL-terminated); NULL `expected` means "absent". */
bool bytes_eq(anchor_bytes view, const char *expected);
/* Whether a view holds exactly the `len` bytes at `expected`. */
bool bytes_eq_n(anchor_bytes view, const void *expected, size_t len);
/* A view's bytes as a NUL-terminated string in a rotating static buffer (for messages). */
const char *show(anchor_bytes view);
/* The calling thread's last error message on a handle (its _last_error), NUL-terminated, in a thread-local
 * buffer per function: valid until that function's next call on the thread. */
const char *verifier_message(const anchor_verifier *verifier);
const char *receiver_message(const anchor_receiver *receiver);
const char *redis_store_message(const anchor_redis_store *store);
const char *redis_builder_message(const anchor_redis_store_builder *builder);
anchor_header header_of(const char *name, const char *value);
anchor_bytes bytes_of(const char *text);

/* A fixed Anchor delivery for the tests that need one valid input. */
#define TEST_SECRET "36da51b166a69268a59a8d5ee0b32c9f5e5aaee7d301c7a5a36844318e116fc6"
#define TEST_NOW 1716544084ULL
#define TEST_BODY                                                                              \
  "{\"id\":\"evt_c1\",\"type\":\"task.completed\",\"created\":\"2026-05-24T12:18:05.123Z\"," \
  "\"project_id\":\"5d2c31f6-ab7e-481a-b6fd-8b4a96a4e197\",\"text\":\"Task done\","         \
  "\"data\":{\"task_id\":\"t_1\",\"artifacts\":[]}}"
#define TEST_DATA "{\"task_id\":\"t_1\",\"artifacts\":[]}"

/* Signs TEST_BODY (or `body`) with `secret` at `timestamp`; abort()s on failure (a harness bug). */
anchor_signed_headers *sign_or_die(const char *secret, const uint8_t *body, size_t body_len,
                                   uint64_t timestamp);
anchor_verifier *verifier_or_die(const char *secret);

void test_vectors(void);
void test_secret_vectors(void);
void test_catalogue(void);
void test_result_messages(void);
void test_sign_and_event_views(void);
void test_standard_scheme(void);
void test_builder_options_and_messages(void);
void test_receiver_flow(void);
void test_messages_without_a_handle(void);
void test_null_parameters(void);
void test_zero_lengths(void);
void test_non_utf8_bytes(void);
void test_concurrent_verifies(void);
void test_concurrent_receives(void);
void test_concurrent_settles(void);
void test_redis_builder_refusals(void);
void test_redis_check(void);
void test_redis_two_receivers(void);
void test_redis_unavailable(void);
void test_redis_concurrent_claims(void);
void test_redis_complete_while_hung(void);

#endif
