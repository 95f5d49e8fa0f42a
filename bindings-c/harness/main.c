/* Runs every test of the C harness and ends with the plain "N passed, N failed" line. */
#include "harness.h"

int harness_failures_in_test = 0;

const char *result_name(anchor_result result) {
  static _Thread_local char names[4][64];
  static _Thread_local int next = 0;
  char *out = names[next++ % 4];
  anchor_bytes name = {NULL, 0};
  if (anchor_result_name((uint32_t)result, &name) != ANCHOR_RESULT_OK || name.len >= 64) {
    snprintf(out, 64, "<not an anchor_result: %d>", (int)result);
    return out;
  }
  memcpy(out, name.data, name.len);
  out[name.len] = '\0';
  return out;
}

bool bytes_eq_n(anchor_bytes view, const void *expected, size_t len) {
  if (expected == NULL) return view.data == NULL && view.len == 0;
  if (view.data == NULL || view.len != len) return false;
  return len == 0 || memcmp(view.data, expected, len) == 0;
}

bool bytes_eq(anchor_bytes view, const char *expected) {
  return bytes_eq_n(view, expected, expected == NULL ? 0 : strlen(expected));
}

const char *show(anchor_bytes view) {
  static _Thread_local char texts[4][512];
  static _Thread_local int next = 0;
  char *out = texts[next++ % 4];
  if (view.data == NULL) return "<absent>";
  size_t n = view.len < 511 ? view.len : 511;
  memcpy(out, view.data, n);
  out[n] = '\0';
  return out;
}

/* Defines `name`, the calling thread's last error message on a `type` handle as `read` gives it,
 * NUL-terminated, in a thread-local buffer of its own (valid until the next call of `name` on that thread). */
#define LAST_ERROR_READER(name, type, read)                                                          \
  const char *name(const type *handle) {                                                          \
    static _Thread_local char message[4096];                                                       \
    size_t written = 0;                                                                            \
    if (read(handle, (uint8_t *)message, sizeof message - 1, &written) != ANCHOR_RESULT_OK)         \
      return "<no message>";                                                                       \
    message[written] = '\0';                                                                       \
    return message;                                                                                \
  }

LAST_ERROR_READER(verifier_message, anchor_verifier, anchor_verifier_last_error)
LAST_ERROR_READER(receiver_message, anchor_receiver, anchor_receiver_last_error)
LAST_ERROR_READER(redis_store_message, anchor_redis_store, anchor_redis_store_last_error)
LAST_ERROR_READER(redis_builder_message, anchor_redis_store_builder, anchor_redis_store_builder_last_error)

anchor_header header_of(const char *name, const char *value) {
  anchor_header header = {(const uint8_t *)name, strlen(name), (const uint8_t *)value, strlen(value)};
  return header;
}

anchor_bytes bytes_of(const char *text) {
  anchor_bytes bytes = {(const uint8_t *)text, strlen(text)};
  return bytes;
}

anchor_signed_headers *sign_or_die(const char *secret, const uint8_t *body, size_t body_len,
                                   uint64_t timestamp) {
  anchor_bytes secrets[1] = {bytes_of(secret)};
  anchor_signed_headers *signed_headers = NULL;
  anchor_result result = anchor_sign(ANCHOR_SCHEME_ANCHOR, secrets, 1, body, body_len, timestamp,
                                     NULL, &signed_headers);
  if (result != ANCHOR_RESULT_OK) {
    fprintf(stderr, "anchor_sign failed: %s\n", result_name(result));
    abort();
  }
  return signed_headers;
}

anchor_verifier *verifier_or_die(const char *secret) {
  anchor_bytes secrets[1] = {bytes_of(secret)};
  anchor_verifier *verifier = NULL;
  if (anchor_verifier_new(ANCHOR_SCHEME_ANCHOR, secrets, 1, &verifier) != ANCHOR_RESULT_OK) abort();
  return verifier;
}

static int passed = 0, failed = 0;

static void run(const char *name, void (*test)(void)) {
  harness_failures_in_test = 0;
  test();
  if (harness_failures_in_test == 0) {
    passed++;
    printf("ok     %s\n", name);
  } else {
    failed++;
    printf("FAILED %s (%d checks)\n", name, harness_failures_in_test);
  }
  fflush(stdout);
}

int main(void) {
  printf("anchor-webhooks C harness, library %s\n", anchor_version());
  run("vectors: every case of tests/vectors/anchor.json and standard.json", test_vectors);
  run("vectors: every case of tests/vectors/secrets.json", test_secret_vectors);
  run("catalogue: error codes and event types", test_catalogue);
  run("anchor_result_message and anchor_result_name", test_result_messages);
  run("anchor_sign, then every event view", test_sign_and_event_views);
  run("Standard Webhooks: official vector through anchor_sign and the verifier", test_standard_scheme);
  run("builder: tolerance, body limit, messages", test_builder_options_and_messages);
  run("receiver: fresh, duplicate, in progress, release, lease takeover, full store", test_receiver_flow);
  run("anchor_last_error: messages of calls without a handle, per thread", test_messages_without_a_handle);
  run("hostile: NULL for every pointer parameter of every function", test_null_parameters);
  run("hostile: zero lengths", test_zero_lengths);
  run("hostile: non-UTF-8 bytes in headers, secrets, bodies and options", test_non_utf8_bytes);
  run("hostile: 8 threads verifying on one verifier", test_concurrent_verifies);
  run("hostile: 8 threads receiving the same event on one receiver", test_concurrent_receives);
  run("hostile: 8 threads completing or releasing the same claim: exactly one settles it", test_concurrent_settles);
  run("redis: the builder refuses what can never work, naming the setter and never the password",
      test_redis_builder_refusals);
  run("redis: check tells ok, misconfigured (password, NOAUTH, DB index) and unavailable", test_redis_check);
  run("redis: two stores on one server share claims and completions; prefixes separate", test_redis_two_receivers);
  run("redis: an unreachable server is store_unavailable (503), a forgery still signature_mismatch",
      test_redis_unavailable);
  run("redis: 8 threads, 50 events, one receiver: exactly one fresh claim per event", test_redis_concurrent_claims);
  run("redis: a complete the hung server never answered is unrecorded; sent again, it is its own completion",
      test_redis_complete_while_hung);
  printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
