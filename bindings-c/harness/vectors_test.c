/* Every case of the shared vectors, with the exact result code (by name and by number). */
#include "harness.h"

struct vector_case {
  const char *name;
  uint32_t scheme;
  const anchor_bytes *secrets;
  size_t secrets_len;
  bool has_tolerance;
  uint64_t tolerance;
  bool has_max_body_bytes;
  size_t max_body_bytes;
  uint64_t now;
  const anchor_header *headers;
  size_t headers_len;
  const uint8_t *body;
  size_t body_len;
  bool ok;
  const char *error;
  size_t matched_secret;
  uint64_t timestamp;
  const char *id;
  const char *type;
  const char *delivery_id;
  bool has_created;
  int64_t created_ms; /* whole unix milliseconds, rounded down */
};

struct secret_case {
  const char *name;
  uint32_t scheme;
  const anchor_bytes *secrets;
  size_t secrets_len;
  bool ok;
  const char *error;
};

#include "vectors.h" /* generated into the target dir by harness/gen_vectors.py */

/* The catalogue number of a code name, or -1. */
static int number_of(const char *name) {
  for (size_t i = 0; i < anchor_error_codes_count(); i++) {
    anchor_error_code_info info;
    if (anchor_error_codes_get(i, &info) == ANCHOR_RESULT_OK && bytes_eq(info.name, name))
      return (int)info.result;
  }
  return -1;
}

static anchor_verifier *build(const struct vector_case *c) {
  anchor_verifier *verifier = NULL;
  if (!c->has_tolerance && !c->has_max_body_bytes) {
    /* No options: the defaults are what is tested, so the plain constructor is used. */
    CHECK_RESULT(anchor_verifier_new(c->scheme, c->secrets, c->secrets_len, &verifier), ANCHOR_RESULT_OK);
    return verifier;
  }
  anchor_verifier_builder *builder = NULL;
  CHECK_RESULT(anchor_verifier_builder_new(c->scheme, &builder), ANCHOR_RESULT_OK);
  for (size_t i = 0; i < c->secrets_len; i++)
    CHECK_RESULT(anchor_verifier_builder_add_secret(builder, c->secrets[i].data, c->secrets[i].len),
                 ANCHOR_RESULT_OK);
  if (c->has_tolerance) CHECK_RESULT(anchor_verifier_builder_set_tolerance(builder, c->tolerance), ANCHOR_RESULT_OK);
  if (c->has_max_body_bytes)
    CHECK_RESULT(anchor_verifier_builder_set_max_body_bytes(builder, c->max_body_bytes), ANCHOR_RESULT_OK);
  CHECK_RESULT(anchor_verifier_builder_build(builder, &verifier), ANCHOR_RESULT_OK);
  anchor_verifier_builder_free(builder);
  return verifier;
}

void test_vectors(void) {
  CHECK(VECTOR_CASES_LEN > 0, "no vector cases: a broken path must not pass");
  for (size_t i = 0; i < VECTOR_CASES_LEN; i++) {
    const struct vector_case *c = &VECTOR_CASES[i];
    int before = harness_failures_in_test;
    anchor_verifier *verifier = build(c);
    if (verifier == NULL) {
      fprintf(stderr, "  in %s\n", c->name);
      continue;
    }
    anchor_event *sentinel = (anchor_event *)(uintptr_t)0x1;
    anchor_event *event = sentinel;
    anchor_result result =
        anchor_verifier_verify(verifier, c->headers, c->headers_len, c->body, c->body_len, c->now, &event);
    size_t matched = 99;
    uint64_t timestamp = 0;
    anchor_result signature_only = anchor_verifier_verify_signature(
        verifier, c->headers, c->headers_len, c->body, c->body_len, c->now, &matched, &timestamp);
    if (c->ok) {
      CHECK_RESULT(result, ANCHOR_RESULT_OK);
      CHECK_RESULT(signature_only, ANCHOR_RESULT_OK);
      if (result == ANCHOR_RESULT_OK) {
        anchor_bytes id, type, delivery_id;
        size_t event_matched = 99;
        uint64_t event_timestamp = 0;
        CHECK_RESULT(anchor_event_id(event, &id), ANCHOR_RESULT_OK);
        CHECK_RESULT(anchor_event_type(event, &type), ANCHOR_RESULT_OK);
        CHECK_RESULT(anchor_event_delivery_id(event, &delivery_id), ANCHOR_RESULT_OK);
        CHECK_RESULT(anchor_event_matched_secret(event, &event_matched), ANCHOR_RESULT_OK);
        CHECK_RESULT(anchor_event_timestamp(event, &event_timestamp), ANCHOR_RESULT_OK);
        CHECK(bytes_eq(id, c->id), "id %s, expected %s", show(id), c->id);
        CHECK(bytes_eq(type, c->type), "type %s, expected %s", show(type), c->type);
        CHECK(bytes_eq(delivery_id, c->delivery_id), "delivery_id %s, expected %s", show(delivery_id),
              c->delivery_id ? c->delivery_id : "<absent>");
        CHECK(event_matched == c->matched_secret, "matched_secret %zu, expected %zu", event_matched,
              c->matched_secret);
        CHECK(event_timestamp == c->timestamp, "timestamp %llu", (unsigned long long)event_timestamp);
        bool has_created = true;
        int64_t created_seconds = -1;
        uint32_t created_nanos = 1;
        CHECK_RESULT(anchor_event_created_unix(event, &has_created, &created_seconds, &created_nanos),
                     ANCHOR_RESULT_OK);
        int64_t created_ms = created_seconds * 1000 + (int64_t)(created_nanos / 1000000);
        CHECK(has_created == c->has_created && (!has_created || created_ms == c->created_ms),
              "created %s %lld ms, expected %s %lld ms", has_created ? "present" : "absent", (long long)created_ms,
              c->has_created ? "present" : "absent", (long long)c->created_ms);
        CHECK(matched == c->matched_secret && timestamp == c->timestamp, "verify_signature outputs");
        anchor_event_free(event);
      }
    } else {
      CHECK(strcmp(result_name(result), c->error) == 0, "got %s, expected %s", result_name(result), c->error);
      CHECK((int)result == number_of(c->error), "result number %d, catalogue number of %s is %d", (int)result,
            c->error, number_of(c->error));
      CHECK(event == sentinel, "event_out was written on a failure");
      CHECK(strlen(verifier_message(verifier)) > 0, "no last error message");
      /* verify_signature stops before the envelope: it agrees on every other code. */
      if (strcmp(c->error, "invalid_payload") == 0) {
        CHECK_RESULT(signature_only, ANCHOR_RESULT_OK);
      } else {
        CHECK_RESULT(signature_only, result);
        CHECK(matched == 99 && timestamp == 0, "verify_signature wrote outputs on a failure");
      }
    }
    anchor_verifier_free(verifier);
    if (harness_failures_in_test != before) fprintf(stderr, "  in %s\n", c->name);
  }
  printf("       %d verification cases\n", VECTOR_CASES_LEN);
}

void test_secret_vectors(void) {
  CHECK(SECRET_CASES_LEN > 0, "no secret cases");
  for (size_t i = 0; i < SECRET_CASES_LEN; i++) {
    const struct secret_case *c = &SECRET_CASES[i];
    int before = harness_failures_in_test;
    anchor_result expected = c->ok ? ANCHOR_RESULT_OK : ANCHOR_RESULT_INVALID_SECRET;
    CHECK(c->ok || strcmp(c->error, "invalid_secret") == 0, "unexpected error %s", c->error);

    anchor_verifier *verifier = NULL;
    CHECK_RESULT(anchor_verifier_new(c->scheme, c->secrets, c->secrets_len, &verifier), expected);
    CHECK((verifier != NULL) == c->ok, "verifier_out written iff ok");
    anchor_verifier_free(verifier);
    verifier = NULL;

    anchor_verifier_builder *builder = NULL;
    CHECK_RESULT(anchor_verifier_builder_new(c->scheme, &builder), ANCHOR_RESULT_OK);
    for (size_t s = 0; s < c->secrets_len; s++)
      CHECK_RESULT(anchor_verifier_builder_add_secret(builder, c->secrets[s].data, c->secrets[s].len),
                   ANCHOR_RESULT_OK);
    CHECK_RESULT(anchor_verifier_builder_build(builder, &verifier), expected);
    if (!c->ok) {
      char message[1024];
      size_t written = 0;
      CHECK_RESULT(anchor_verifier_builder_last_error(builder, (uint8_t *)message, sizeof message - 1, &written),
                   ANCHOR_RESULT_OK);
      message[written] = '\0';
      CHECK(strncmp(message, "invalid secret", 14) == 0, "message: %s", message);
      for (size_t s = 0; s < c->secrets_len; s++) {
        /* A message never shows a secret (long enough not to match by chance). */
        if (c->secrets[s].len >= 8)
          CHECK(strstr(message, show(c->secrets[s])) == NULL, "the message shows secret #%zu: %s", s, message);
      }
    }
    anchor_verifier_free(verifier);
    anchor_verifier_builder_free(builder);
    if (harness_failures_in_test != before) fprintf(stderr, "  in %s\n", c->name);
  }
  printf("       %d secret cases\n", SECRET_CASES_LEN);
}
