/* The API beyond the vectors: catalogue, messages, signing, every event view, the builder, the receiver. */
#include "harness.h"
#include <pthread.h>

void test_catalogue(void) {
  size_t count = anchor_error_codes_count();
  CHECK(count >= 12, "%zu error codes", count);
  for (size_t i = 0; i < count; i++) {
    anchor_error_code_info info;
    CHECK_RESULT(anchor_error_codes_get(i, &info), ANCHOR_RESULT_OK);
    CHECK(strcmp(result_name(info.result), show(info.name)) == 0, "entry %zu: %s vs %s", i,
          result_name(info.result), show(info.name));
    uint16_t status = 0;
    CHECK_RESULT(anchor_result_http_status((uint32_t)info.result, &status), ANCHOR_RESULT_OK);
    CHECK(status == info.http_status, "%s: status %u vs %u", show(info.name), status, info.http_status);
    CHECK((int)info.result >= 1 && (int)info.result < 1000, "core codes are 1..999");
  }
  anchor_error_code_info info;
  CHECK_RESULT(anchor_error_codes_get(8, &info), ANCHOR_RESULT_OK);
  CHECK(info.result == ANCHOR_RESULT_SIGNATURE_MISMATCH && info.http_status == 401 &&
            bytes_eq(info.name, "signature_mismatch"),
        "entry 8 is signature_mismatch/401");
  CHECK_RESULT(anchor_error_codes_get(count, &info), ANCHOR_RESULT_INVALID_ARGUMENT);

  size_t types = anchor_event_types_count();
  CHECK(types >= 14, "%zu event types", types);
  anchor_bytes name;
  CHECK_RESULT(anchor_event_types_get(0, &name), ANCHOR_RESULT_OK);
  CHECK(bytes_eq(name, "task.completed"), "first type %s", show(name));
  bool found = false;
  for (size_t i = 0; i < types; i++) {
    CHECK_RESULT(anchor_event_types_get(i, &name), ANCHOR_RESULT_OK);
    found |= bytes_eq(name, "identity.authentication_failed");
  }
  CHECK(found, "identity.authentication_failed is in the catalogue");
  CHECK_RESULT(anchor_event_types_get(types, &name), ANCHOR_RESULT_INVALID_ARGUMENT);

  uint16_t status = 0;
  CHECK_RESULT(anchor_result_http_status(ANCHOR_RESULT_STORE_UNAVAILABLE, &status), ANCHOR_RESULT_OK);
  CHECK(status == 503, "store_unavailable -> %u", status);
  CHECK_RESULT(anchor_result_http_status(ANCHOR_RESULT_MALFORMED_HEADER, &status), ANCHOR_RESULT_OK);
  CHECK(status == 400, "malformed_header -> %u", status);
  CHECK_RESULT(anchor_result_http_status(ANCHOR_RESULT_PANIC, &status), ANCHOR_RESULT_OK);
  CHECK(status == 500, "panic -> %u", status);
  CHECK(strcmp(anchor_version(), ANCHOR_WEBHOOKS_VERSION) == 0, "the header's version is the library's");
  CHECK(ANCHOR_WEBHOOKS_VERSION_MAJOR == 0 && ANCHOR_WEBHOOKS_VERSION_MINOR >= 1, "version numbers are integer constants");
  /* What the sender retries (a handler answering it itself releases the claim): 3xx, 408, 429, 5xx. */
  static const uint16_t retried[] = {301, 302, 408, 429, 500, 503, 599, 600, 100};
  static const uint16_t final_answers[] = {200, 204, 299, 400, 401, 404, 409, 410, 422, 499};
  for (size_t i = 0; i < sizeof retried / sizeof retried[0]; i++) {
    CHECK(anchor_sender_retries(retried[i]), "the sender retries %u", retried[i]);
  }
  for (size_t i = 0; i < sizeof final_answers / sizeof final_answers[0]; i++) {
    CHECK(!anchor_sender_retries(final_answers[i]), "the sender does not retry %u", final_answers[i]);
  }
  uint64_t now = anchor_now_unix_seconds();
  CHECK(now > 1700000000ULL && anchor_now_unix_ms() / 1000 >= now, "host clock %llu", (unsigned long long)now);
}

void test_result_messages(void) {
  char buf[512];
  size_t written = 0;
  CHECK_RESULT(anchor_result_message(ANCHOR_RESULT_SIGNATURE_MISMATCH, (uint8_t *)buf, sizeof buf, &written),
               ANCHOR_RESULT_OK);
  CHECK(written > 20 && strncmp(buf, "signature_mismatch: ", 20) == 0, "message %.*s", (int)written, buf);
  CHECK_RESULT(anchor_result_message(ANCHOR_RESULT_NULL_PARAMETER, (uint8_t *)buf, sizeof buf, &written),
               ANCHOR_RESULT_OK);
  CHECK(strncmp(buf, "null_parameter: ", 16) == 0, "message %.*s", (int)written, buf);

  /* Too small: nothing written to the buffer, the size needed reported. */
  size_t needed = written;
  memset(buf, 'x', sizeof buf);
  CHECK_RESULT(anchor_result_message(ANCHOR_RESULT_NULL_PARAMETER, (uint8_t *)buf, 5, &written),
               ANCHOR_RESULT_BUFFER_TOO_SMALL);
  CHECK(written == needed && buf[0] == 'x', "needed %zu, reported %zu", needed, written);
  CHECK_RESULT(anchor_result_message(ANCHOR_RESULT_NULL_PARAMETER, (uint8_t *)buf, needed, &written),
               ANCHOR_RESULT_OK);
  CHECK(written == needed, "exact fit");

  written = 7;
  CHECK_RESULT(anchor_result_message(4242, (uint8_t *)buf, sizeof buf, &written), ANCHOR_RESULT_INVALID_ARGUMENT);
  CHECK(written == 7, "written untouched on failure");
  anchor_bytes name;
  CHECK_RESULT(anchor_result_name(ANCHOR_RESULT_OK, &name), ANCHOR_RESULT_OK);
  CHECK(bytes_eq(name, "ok"), "ok");
  CHECK_RESULT(anchor_result_name(ANCHOR_RESULT_BUFFER_TOO_SMALL, &name), ANCHOR_RESULT_OK);
  CHECK(bytes_eq(name, "buffer_too_small"), "buffer_too_small");
  CHECK_RESULT(anchor_result_name(13, &name), ANCHOR_RESULT_INVALID_ARGUMENT);
}

void test_sign_and_event_views(void) {
  const char *body = TEST_BODY;
  anchor_bytes secrets[2] = {bytes_of("new-secret"), bytes_of(TEST_SECRET)};
  anchor_sign_options options = {(const uint8_t *)"delivery-7", 10, NULL, 0};
  anchor_signed_headers *signed_headers = NULL;
  CHECK_RESULT(anchor_sign(ANCHOR_SCHEME_ANCHOR, secrets, 2, (const uint8_t *)body, strlen(body), TEST_NOW,
                           &options, &signed_headers),
               ANCHOR_RESULT_OK);
  const anchor_header *headers = NULL;
  size_t headers_len = 0;
  CHECK_RESULT(anchor_signed_headers_get(signed_headers, &headers, &headers_len), ANCHOR_RESULT_OK);
  CHECK(headers_len == 6, "%zu headers", headers_len);
  bool saw_event = false;
  for (size_t i = 0; i < headers_len; i++) {
    anchor_bytes name = {headers[i].name, headers[i].name_len};
    anchor_bytes value = {headers[i].value, headers[i].value_len};
    if (bytes_eq(name, "Anchor-Event")) saw_event = bytes_eq(value, "task.completed");
    if (bytes_eq(name, "Anchor-Delivery-Id")) CHECK(bytes_eq(value, "delivery-7"), "id option %s", show(value));
  }
  CHECK(saw_event, "Anchor-Event taken from the body's type");

  /* Verified by a receiver holding only the old secret: matched_secret is its index. */
  anchor_bytes old_only[2] = {bytes_of("unrelated"), bytes_of(TEST_SECRET)};
  anchor_verifier *verifier = NULL;
  CHECK_RESULT(anchor_verifier_new(ANCHOR_SCHEME_ANCHOR, old_only, 2, &verifier), ANCHOR_RESULT_OK);
  anchor_event *event = NULL;
  CHECK_RESULT(anchor_verifier_verify(verifier, headers, headers_len, (const uint8_t *)body, strlen(body),
                                      TEST_NOW + 120, &event),
               ANCHOR_RESULT_OK);
  anchor_bytes view;
  CHECK_RESULT(anchor_event_id(event, &view), ANCHOR_RESULT_OK);
  CHECK(bytes_eq(view, "evt_c1"), "id %s", show(view));
  CHECK_RESULT(anchor_event_type(event, &view), ANCHOR_RESULT_OK);
  CHECK(bytes_eq(view, "task.completed"), "type %s", show(view));
  CHECK_RESULT(anchor_event_created(event, &view), ANCHOR_RESULT_OK);
  CHECK(bytes_eq(view, "2026-05-24T12:18:05.123Z"), "created %s", show(view));
  bool present = false;
  int64_t seconds = 0;
  uint32_t nanos = 0;
  CHECK_RESULT(anchor_event_created_unix(event, &present, &seconds, &nanos), ANCHOR_RESULT_OK);
  CHECK(present && seconds == 1779625085LL && nanos == 123000000u, "created_unix %d %lld %u", present,
        (long long)seconds, nanos);
  CHECK_RESULT(anchor_event_project_id(event, &view), ANCHOR_RESULT_OK);
  CHECK(bytes_eq(view, "5d2c31f6-ab7e-481a-b6fd-8b4a96a4e197"), "project_id %s", show(view));
  CHECK_RESULT(anchor_event_text(event, &view), ANCHOR_RESULT_OK);
  CHECK(bytes_eq(view, "Task done"), "text %s", show(view));
  CHECK_RESULT(anchor_event_data(event, &view), ANCHOR_RESULT_OK);
  CHECK(bytes_eq(view, TEST_DATA), "data %s", show(view));
  CHECK_RESULT(anchor_event_body(event, &view), ANCHOR_RESULT_OK);
  CHECK(bytes_eq(view, body) && view.data != (const uint8_t *)body, "body is the event's own copy");
  CHECK_RESULT(anchor_event_delivery_id(event, &view), ANCHOR_RESULT_OK);
  CHECK(bytes_eq(view, "delivery-7"), "delivery_id %s", show(view));
  size_t matched = 9;
  CHECK_RESULT(anchor_event_matched_secret(event, &matched), ANCHOR_RESULT_OK);
  CHECK(matched == 1, "matched %zu", matched);
  uint64_t timestamp = 0;
  CHECK_RESULT(anchor_event_timestamp(event, &timestamp), ANCHOR_RESULT_OK);
  CHECK(timestamp == TEST_NOW, "timestamp");
  /* Many headers (more than the library converts on its stack): the same answer. */
  anchor_header many[40];
  char names[40][32];
  size_t m = 0;
  for (; m < 40 - headers_len; m++) {
    snprintf(names[m], sizeof names[m], "X-Filler-%zu", m);
    many[m] = header_of(names[m], "value");
  }
  for (size_t i = 0; i < headers_len; i++) many[m++] = headers[i];
  anchor_event *many_event = NULL;
  CHECK_RESULT(anchor_verifier_verify(verifier, many, m, (const uint8_t *)body, strlen(body), TEST_NOW, &many_event),
               ANCHOR_RESULT_OK);
  anchor_event_free(many_event);
  many[3] = (anchor_header){NULL, 4, (const uint8_t *)"v", 1};
  CHECK_RESULT(anchor_verifier_verify(verifier, many, m, (const uint8_t *)body, strlen(body), TEST_NOW, &many_event),
               ANCHOR_RESULT_NULL_PARAMETER);
  CHECK(strcmp(verifier_message(verifier), "null_parameter: `headers[].name` is NULL") == 0, "%s",
        verifier_message(verifier));
  /* Views stay valid after the inputs are gone: the signed headers are freed first. */
  anchor_signed_headers_free(signed_headers);
  CHECK_RESULT(anchor_event_id(event, &view), ANCHOR_RESULT_OK);
  CHECK(bytes_eq(view, "evt_c1"), "id after freeing the inputs");
  anchor_event_free(event);

  /* An event without optional fields: absent views are {NULL, 0}. */
  const char *bare = "{\"id\":\"evt_2\",\"type\":\"widget.exploded\",\"created\":\"2026-05-24T12:18:05Z\",\"data\":{}}";
  signed_headers = sign_or_die(TEST_SECRET, (const uint8_t *)bare, strlen(bare), TEST_NOW);
  CHECK_RESULT(anchor_signed_headers_get(signed_headers, &headers, &headers_len), ANCHOR_RESULT_OK);
  CHECK_RESULT(anchor_verifier_verify(verifier, headers, headers_len, (const uint8_t *)bare, strlen(bare),
                                      TEST_NOW, &event),
               ANCHOR_RESULT_OK);
  CHECK_RESULT(anchor_event_project_id(event, &view), ANCHOR_RESULT_OK);
  CHECK(view.data == NULL && view.len == 0, "absent project_id");
  CHECK_RESULT(anchor_event_text(event, &view), ANCHOR_RESULT_OK);
  CHECK(view.data == NULL && view.len == 0, "absent text");
  CHECK_RESULT(anchor_event_type(event, &view), ANCHOR_RESULT_OK);
  CHECK(bytes_eq(view, "widget.exploded"), "unknown types verify: %s", show(view));
  CHECK_RESULT(anchor_event_data(event, &view), ANCHOR_RESULT_OK);
  CHECK(bytes_eq(view, "{}"), "empty data %s", show(view));
  anchor_event_free(event);
  anchor_signed_headers_free(signed_headers);

  /* Empty values (not absent ones) are views of a real address, never a dangling one such as 0x1, so
   * memcpy(dst, data, 0) is defined; every empty view points at the same static byte. */
  const char *blank = "{\"id\":\"evt_3\",\"type\":\"task.completed\",\"created\":\"2026-05-24T12:18:05Z\","
                      "\"project_id\":\"\",\"text\":\"\",\"data\":{}}";
  signed_headers = sign_or_die(TEST_SECRET, (const uint8_t *)blank, strlen(blank), TEST_NOW);
  CHECK_RESULT(anchor_signed_headers_get(signed_headers, &headers, &headers_len), ANCHOR_RESULT_OK);
  CHECK_RESULT(anchor_verifier_verify(verifier, headers, headers_len, (const uint8_t *)blank, strlen(blank),
                                      TEST_NOW, &event),
               ANCHOR_RESULT_OK);
  anchor_bytes empty_project = {NULL, 9}, empty_text = {NULL, 9};
  CHECK_RESULT(anchor_event_project_id(event, &empty_project), ANCHOR_RESULT_OK);
  CHECK_RESULT(anchor_event_text(event, &empty_text), ANCHOR_RESULT_OK);
  CHECK(empty_project.len == 0 && empty_project.data != NULL && empty_project.data != (const uint8_t *)1,
        "empty project_id: data=%p len=%zu", (const void *)empty_project.data, empty_project.len);
  CHECK(empty_text.len == 0 && empty_text.data == empty_project.data, "empty text: data=%p len=%zu",
        (const void *)empty_text.data, empty_text.len);
  char sink[1] = {'x'};
  memcpy(sink, empty_project.data, empty_project.len);
  CHECK(sink[0] == 'x', "nothing copied");
  anchor_event_free(event);

  /* A forgery: the message says what happened, never the secret. */
  anchor_signed_headers *forged = sign_or_die("not-the-secret", (const uint8_t *)bare, strlen(bare), TEST_NOW);
  CHECK_RESULT(anchor_signed_headers_get(forged, &headers, &headers_len), ANCHOR_RESULT_OK);
  event = NULL;
  CHECK_RESULT(anchor_verifier_verify(verifier, headers, headers_len, (const uint8_t *)bare, strlen(bare),
                                      TEST_NOW, &event),
               ANCHOR_RESULT_SIGNATURE_MISMATCH);
  CHECK(event == NULL, "no event on failure");
  const char *message = verifier_message(verifier);
  CHECK(strncmp(message, "signature mismatch", 18) == 0, "message: %s", message);
  CHECK(strstr(message, TEST_SECRET) == NULL && strstr(message, "not-the-secret") == NULL, "no secret shown");
  /* Stale: the message has the measured skew. */
  CHECK_RESULT(anchor_verifier_verify(verifier, headers, headers_len, (const uint8_t *)bare, strlen(bare),
                                      TEST_NOW + 121, &event),
               ANCHOR_RESULT_TIMESTAMP_TOO_OLD);
  message = verifier_message(verifier);
  CHECK(strstr(message, "121 s") != NULL, "skew in the message: %s", message);
  anchor_signed_headers_free(forged);
  anchor_signed_headers_free(signed_headers);
  anchor_verifier_free(verifier);

  /* An id that could inject a header is refused by the signer. */
  anchor_bytes one[1] = {bytes_of(TEST_SECRET)};
  anchor_sign_options injected = {(const uint8_t *)"a\nX-Evil: 1", 11, NULL, 0};
  signed_headers = NULL;
  CHECK_RESULT(anchor_sign(ANCHOR_SCHEME_ANCHOR, one, 1, (const uint8_t *)bare, strlen(bare), TEST_NOW, &injected,
                           &signed_headers),
               ANCHOR_RESULT_MALFORMED_HEADER);
  CHECK(signed_headers == NULL, "nothing signed");
  CHECK_RESULT(anchor_sign(7, one, 1, (const uint8_t *)bare, strlen(bare), TEST_NOW, NULL, &signed_headers),
               ANCHOR_RESULT_INVALID_ARGUMENT);
}

void test_standard_scheme(void) {
  /* The official Standard Webhooks vector, signed by anchor_sign with its id. */
  const char *body = "{\"test\": 2432232314}";
  anchor_bytes secrets[1] = {bytes_of("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")};
  anchor_sign_options options = {(const uint8_t *)"msg_p5jXN8AQM9LWM0D4loKWxJek", 28, NULL, 0};
  anchor_signed_headers *signed_headers = NULL;
  CHECK_RESULT(anchor_sign(ANCHOR_SCHEME_STANDARD, secrets, 1, (const uint8_t *)body, strlen(body), 1614265330ULL,
                           &options, &signed_headers),
               ANCHOR_RESULT_OK);
  const anchor_header *headers = NULL;
  size_t headers_len = 0;
  CHECK_RESULT(anchor_signed_headers_get(signed_headers, &headers, &headers_len), ANCHOR_RESULT_OK);
  bool official = false;
  for (size_t i = 0; i < headers_len; i++) {
    anchor_bytes name = {headers[i].name, headers[i].name_len};
    anchor_bytes value = {headers[i].value, headers[i].value_len};
    if (bytes_eq(name, "webhook-signature"))
      official = bytes_eq(value, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
  }
  CHECK(official, "the official signature");
  anchor_verifier *verifier = NULL;
  CHECK_RESULT(anchor_verifier_new(ANCHOR_SCHEME_STANDARD, secrets, 1, &verifier), ANCHOR_RESULT_OK);
  anchor_event *event = NULL;
  CHECK_RESULT(anchor_verifier_verify(verifier, headers, headers_len, (const uint8_t *)body, strlen(body),
                                      1614265330ULL + 300, &event),
               ANCHOR_RESULT_OK);
  anchor_bytes view;
  CHECK_RESULT(anchor_event_id(event, &view), ANCHOR_RESULT_OK);
  CHECK(bytes_eq(view, "msg_p5jXN8AQM9LWM0D4loKWxJek"), "id %s", show(view));
  CHECK_RESULT(anchor_event_type(event, &view), ANCHOR_RESULT_OK);
  CHECK(bytes_eq(view, ""), "no type: empty, %s", show(view));
  CHECK(view.data != (const uint8_t *)1, "an empty view points at a real address, not %p", (const void *)view.data);
  CHECK_RESULT(anchor_event_data(event, &view), ANCHOR_RESULT_OK);
  CHECK(bytes_eq(view, "null"), "no data: null, %s", show(view));
  CHECK_RESULT(anchor_event_created(event, &view), ANCHOR_RESULT_OK);
  CHECK(view.data == NULL, "no created");
  bool present = true;
  int64_t seconds = 5;
  uint32_t nanos = 5;
  CHECK_RESULT(anchor_event_created_unix(event, &present, &seconds, &nanos), ANCHOR_RESULT_OK);
  CHECK(!present && seconds == 0 && nanos == 0, "absent created_unix");
  anchor_event_free(event);
  /* The Anchor scheme refuses a whsec_ secret, with a hint. */
  anchor_verifier *wrong = NULL;
  CHECK_RESULT(anchor_verifier_new(ANCHOR_SCHEME_ANCHOR, secrets, 1, &wrong), ANCHOR_RESULT_INVALID_SECRET);
  CHECK_RESULT(anchor_verifier_new(2, secrets, 1, &wrong), ANCHOR_RESULT_INVALID_ARGUMENT);
  CHECK(wrong == NULL, "no verifier");
  anchor_verifier_free(verifier);
  anchor_signed_headers_free(signed_headers);
}

void test_builder_options_and_messages(void) {
  anchor_verifier_builder *builder = NULL;
  CHECK_RESULT(anchor_verifier_builder_new(99, &builder), ANCHOR_RESULT_INVALID_ARGUMENT);
  CHECK(builder == NULL, "no builder");
  CHECK_RESULT(anchor_verifier_builder_new(ANCHOR_SCHEME_ANCHOR, &builder), ANCHOR_RESULT_OK);
  anchor_verifier *verifier = NULL;
  CHECK_RESULT(anchor_verifier_builder_build(builder, &verifier), ANCHOR_RESULT_INVALID_SECRET);
  char message[512];
  size_t written = 0;
  CHECK_RESULT(anchor_verifier_builder_last_error(builder, (uint8_t *)message, sizeof message, &written),
               ANCHOR_RESULT_OK);
  CHECK(written > 0 && strstr(message, "no secret") != NULL, "%.*s", (int)written, message);
  CHECK_RESULT(anchor_verifier_builder_add_secret(builder, (const uint8_t *)"ok-secret", 9), ANCHOR_RESULT_OK);
  CHECK_RESULT(anchor_verifier_builder_add_secret(builder, (const uint8_t *)" padded", 7), ANCHOR_RESULT_OK);
  CHECK_RESULT(anchor_verifier_builder_build(builder, &verifier), ANCHOR_RESULT_INVALID_SECRET);
  CHECK_RESULT(anchor_verifier_builder_last_error(builder, (uint8_t *)message, sizeof message, &written),
               ANCHOR_RESULT_OK);
  CHECK(strstr(message, "secret #2") != NULL && strstr(message, "whitespace") != NULL, "%.*s", (int)written,
        message);
  anchor_verifier_builder_free(builder);

  CHECK_RESULT(anchor_verifier_builder_new(ANCHOR_SCHEME_ANCHOR, &builder), ANCHOR_RESULT_OK);
  CHECK_RESULT(anchor_verifier_builder_add_secret(builder, (const uint8_t *)TEST_SECRET, strlen(TEST_SECRET)),
               ANCHOR_RESULT_OK);
  CHECK_RESULT(anchor_verifier_builder_set_tolerance(builder, 10), ANCHOR_RESULT_OK);
  CHECK_RESULT(anchor_verifier_builder_set_max_body_bytes(builder, 64), ANCHOR_RESULT_OK);
  CHECK_RESULT(anchor_verifier_builder_build(builder, &verifier), ANCHOR_RESULT_OK);
  /* The builder had no failure on this thread since its last one: the old message is still there. */
  anchor_verifier_builder_free(builder);

  const char *body = TEST_BODY;
  anchor_signed_headers *signed_headers = sign_or_die(TEST_SECRET, (const uint8_t *)body, strlen(body), TEST_NOW);
  const anchor_header *headers;
  size_t headers_len;
  CHECK_RESULT(anchor_signed_headers_get(signed_headers, &headers, &headers_len), ANCHOR_RESULT_OK);
  anchor_event *event = NULL;
  /* The body is over 64 bytes. */
  CHECK_RESULT(anchor_verifier_verify(verifier, headers, headers_len, (const uint8_t *)body, strlen(body),
                                      TEST_NOW, &event),
               ANCHOR_RESULT_BODY_TOO_LARGE);
  CHECK(strstr(verifier_message(verifier), "limit is 64 bytes") != NULL, "%s", verifier_message(verifier));
  /* The tolerance is checked before the body size. */
  CHECK_RESULT(anchor_verifier_verify(verifier, headers, headers_len, (const uint8_t *)body, strlen(body),
                                      TEST_NOW + 11, &event),
               ANCHOR_RESULT_TIMESTAMP_TOO_OLD);
  CHECK_RESULT(anchor_verifier_verify(verifier, headers, headers_len, (const uint8_t *)body, strlen(body),
                                      TEST_NOW - 11, &event),
               ANCHOR_RESULT_TIMESTAMP_TOO_NEW);
  anchor_signed_headers_free(signed_headers);
  anchor_verifier_free(verifier);

  /* A fresh verifier has no message: OK, zero bytes. */
  verifier = verifier_or_die(TEST_SECRET);
  written = 99;
  CHECK_RESULT(anchor_verifier_last_error(verifier, (uint8_t *)message, sizeof message, &written), ANCHOR_RESULT_OK);
  CHECK(written == 0, "no message yet");
  anchor_verifier_free(verifier);
}

static bool receiver_message_is(const anchor_receiver *receiver, const char *expected) {
  return strcmp(receiver_message(receiver), expected) == 0;
}

static anchor_result receive(anchor_receiver *receiver, const char *body, const anchor_header *headers,
                             size_t headers_len, uint64_t now_ms, anchor_reception *kind, anchor_event **event) {
  return anchor_receiver_receive(receiver, headers, headers_len, (const uint8_t *)body, strlen(body), now_ms, kind,
                                 event);
}

void test_receiver_flow(void) {
  const char *body = TEST_BODY;
  anchor_signed_headers *signed_headers = sign_or_die(TEST_SECRET, (const uint8_t *)body, strlen(body), TEST_NOW);
  const anchor_header *headers;
  size_t n;
  CHECK_RESULT(anchor_signed_headers_get(signed_headers, &headers, &n), ANCHOR_RESULT_OK);
  anchor_verifier *verifier = verifier_or_die(TEST_SECRET);
  anchor_memory_store *store = NULL;
  CHECK_RESULT(anchor_memory_store_new(ANCHOR_DEFAULT_MAX_ENTRIES, ANCHOR_DEFAULT_DONE_TTL_SECONDS, &store),
               ANCHOR_RESULT_OK);
  anchor_receiver *receiver = NULL;
  CHECK_RESULT(anchor_receiver_new(verifier, store, 1000, &receiver), ANCHOR_RESULT_OK);
  /* The receiver keeps its own copies: the handles it came from can go. */
  anchor_verifier_free(verifier);
  uint64_t now_ms = TEST_NOW * 1000;

  anchor_reception kind = 0;
  anchor_event *first = NULL, *second = NULL, *third = NULL;
  CHECK_RESULT(receive(receiver, body, headers, n, now_ms, &kind, &first), ANCHOR_RESULT_OK);
  CHECK(kind == ANCHOR_RECEPTION_FRESH, "fresh, got %d", kind);
  /* While claimed: in progress. */
  CHECK_RESULT(receive(receiver, body, headers, n, now_ms + 10, &kind, &second), ANCHOR_RESULT_OK);
  CHECK(kind == ANCHOR_RECEPTION_IN_PROGRESS, "in progress, got %d", kind);
  bool done = false;
  CHECK_RESULT(anchor_receiver_complete(receiver, second, now_ms, &done), ANCHOR_RESULT_INVALID_ARGUMENT);
  char message[512];
  size_t written = 0;
  CHECK_RESULT(anchor_receiver_last_error(receiver, (uint8_t *)message, sizeof message, &written), ANCHOR_RESULT_OK);
  CHECK(strstr(message, "holds no claim") != NULL, "%.*s", (int)written, message);
  anchor_event_free(second);
  /* Settled through another receiver (over the same store, or another one): refused with a message, nothing
   * written, and the claim stays held by the receiver that took it. */
  anchor_verifier *other_verifier = verifier_or_die(TEST_SECRET);
  anchor_memory_store *other_store = NULL;
  anchor_receiver *same_store = NULL, *elsewhere = NULL;
  CHECK_RESULT(anchor_memory_store_new(10, 60, &other_store), ANCHOR_RESULT_OK);
  CHECK_RESULT(anchor_receiver_new(other_verifier, store, 1000, &same_store), ANCHOR_RESULT_OK);
  CHECK_RESULT(anchor_receiver_new(other_verifier, other_store, 1000, &elsewhere), ANCHOR_RESULT_OK);
  anchor_verifier_free(other_verifier);
  anchor_memory_store_free(other_store);
  const char *not_yours = "invalid_argument: this event was claimed by another receiver: complete or release it "
                          "with the anchor_receiver whose anchor_receiver_receive returned it";
  anchor_receiver *strangers[2] = {same_store, elsewhere};
  for (int i = 0; i < 2; i++) {
    done = true;
    CHECK_RESULT(anchor_receiver_complete(strangers[i], first, now_ms + 15, &done), ANCHOR_RESULT_INVALID_ARGUMENT);
    CHECK_RESULT(anchor_receiver_release(strangers[i], first, now_ms + 15, &done), ANCHOR_RESULT_INVALID_ARGUMENT);
    CHECK(done, "no output written on a refusal");
    written = 0;
    CHECK_RESULT(anchor_receiver_last_error(strangers[i], (uint8_t *)message, sizeof message, &written),
                 ANCHOR_RESULT_OK);
    CHECK(written == strlen(not_yours) && memcmp(message, not_yours, written) == 0, "receiver %d: %.*s", i,
          (int)written, message);
  }
  CHECK_RESULT(receive(same_store, body, headers, n, now_ms + 16, &kind, &second), ANCHOR_RESULT_OK);
  CHECK(kind == ANCHOR_RECEPTION_IN_PROGRESS, "the claim is still held, got %d", kind);
  anchor_event_free(second);
  anchor_receiver_free(same_store);
  anchor_receiver_free(elsewhere);
  /* Released after a failed handler: the retry is fresh again. */
  CHECK_RESULT(anchor_receiver_release(receiver, first, now_ms + 20, &done), ANCHOR_RESULT_OK);
  CHECK(done, "released");
  /* Settling it again is a caller bug, not a lost claim: refused with a message naming what happened, nothing
   * written (never "claim lost ... choose a longer lease"). */
  const char *released_twice = "invalid_argument: the claim of event evt_c1 was already released: settle a claim "
                               "once (anchor_receiver_complete after success or anchor_receiver_release after "
                               "failure, then anchor_event_free)";
  CHECK_RESULT(anchor_receiver_release(receiver, first, now_ms + 20, &done), ANCHOR_RESULT_INVALID_ARGUMENT);
  CHECK(receiver_message_is(receiver, released_twice), "%s", receiver_message(receiver));
  CHECK_RESULT(anchor_receiver_complete(receiver, first, now_ms + 20, &done), ANCHOR_RESULT_INVALID_ARGUMENT);
  CHECK(receiver_message_is(receiver, released_twice), "%s", receiver_message(receiver));
  CHECK(done, "no output written on a refusal");
  anchor_event_free(first);
  CHECK_RESULT(receive(receiver, body, headers, n, now_ms + 30, &kind, &first), ANCHOR_RESULT_OK);
  CHECK(kind == ANCHOR_RECEPTION_FRESH, "fresh after release, got %d", kind);
  /* Its lease (1 s) expires: another worker takes it over, and the first can no longer complete. */
  CHECK_RESULT(receive(receiver, body, headers, n, now_ms + 1031, &kind, &second), ANCHOR_RESULT_OK);
  CHECK(kind == ANCHOR_RECEPTION_FRESH, "taken over after the lease, got %d", kind);
  CHECK_RESULT(anchor_receiver_complete(receiver, first, now_ms + 1040, &done), ANCHOR_RESULT_OK);
  CHECK(!done, "the lost claim cannot complete");
  /* The warning to log, the same words as in every language. */
  char warning[512];
  size_t warning_len = 0;
  CHECK_RESULT(anchor_receiver_last_error(receiver, (uint8_t *)warning, sizeof warning, &warning_len), ANCHOR_RESULT_OK);
  const char *lost = "anchor-webhooks: claim lost: the handler of event evt_c1 outlasted its 1 s lease and the claim was "
                     "gone when it finished (another delivery may have run it too); choose a lease longer than the handler";
  CHECK(warning_len == strlen(lost) && memcmp(warning, lost, warning_len) == 0, "%.*s", (int)warning_len, warning);
  /* Its completion was reported (lost): completing or releasing it again is refused, not a second warning. */
  const char *completed_twice = "invalid_argument: the claim of event evt_c1 was already completed: settle a claim "
                                "once (anchor_receiver_complete after success or anchor_receiver_release after "
                                "failure, then anchor_event_free)";
  done = true;
  CHECK_RESULT(anchor_receiver_complete(receiver, first, now_ms + 1041, &done), ANCHOR_RESULT_INVALID_ARGUMENT);
  CHECK(receiver_message_is(receiver, completed_twice), "%s", receiver_message(receiver));
  CHECK_RESULT(anchor_receiver_release(receiver, first, now_ms + 1041, &done), ANCHOR_RESULT_INVALID_ARGUMENT);
  CHECK(receiver_message_is(receiver, completed_twice), "%s", receiver_message(receiver));
  CHECK(done, "no output written on a refusal");
  /* ... and leaves the claim of the worker that took it over alone. */
  CHECK_RESULT(anchor_receiver_complete(receiver, second, now_ms + 1040, &done), ANCHOR_RESULT_OK);
  CHECK(done, "the holder completes");
  CHECK_RESULT(anchor_receiver_complete(receiver, second, now_ms + 1045, &done), ANCHOR_RESULT_INVALID_ARGUMENT);
  CHECK(receiver_message_is(receiver, completed_twice), "%s", receiver_message(receiver));
  CHECK(done, "no output written on a refusal");
  CHECK_RESULT(receive(receiver, body, headers, n, now_ms + 1050, &kind, &third), ANCHOR_RESULT_OK);
  CHECK(kind == ANCHOR_RECEPTION_DUPLICATE, "duplicate, got %d", kind);
  anchor_bytes id;
  CHECK_RESULT(anchor_event_id(third, &id), ANCHOR_RESULT_OK);
  CHECK(bytes_eq(id, "evt_c1"), "the duplicate's id");
  anchor_event_free(first);
  anchor_event_free(second);
  anchor_event_free(third);
  size_t held = 0;
  CHECK_RESULT(anchor_memory_store_len(store, &held), ANCHOR_RESULT_OK);
  CHECK(held == 1, "%zu ids held", held);

  /* A forgery never touches the store. */
  anchor_signed_headers *forged = sign_or_die("forger", (const uint8_t *)body, strlen(body), TEST_NOW);
  const anchor_header *forged_headers;
  size_t forged_n;
  CHECK_RESULT(anchor_signed_headers_get(forged, &forged_headers, &forged_n), ANCHOR_RESULT_OK);
  first = NULL;
  CHECK_RESULT(receive(receiver, body, forged_headers, forged_n, now_ms, &kind, &first),
               ANCHOR_RESULT_SIGNATURE_MISMATCH);
  CHECK(first == NULL, "no event");
  CHECK_RESULT(anchor_memory_store_len(store, &held), ANCHOR_RESULT_OK);
  CHECK(held == 1, "still %zu ids held", held);
  anchor_signed_headers_free(forged);
  anchor_receiver_free(receiver);
  anchor_memory_store_free(store);

  /* A store full of claims in progress refuses new ones: store_unavailable (503), never "fresh". */
  verifier = verifier_or_die(TEST_SECRET);
  CHECK_RESULT(anchor_memory_store_new(1, 60, &store), ANCHOR_RESULT_OK);
  CHECK_RESULT(anchor_receiver_new(verifier, store, ANCHOR_DEFAULT_LEASE_MS, &receiver), ANCHOR_RESULT_OK);
  anchor_memory_store_free(store); /* the receiver keeps it alive */
  anchor_verifier_free(verifier);
  CHECK_RESULT(receive(receiver, body, headers, n, now_ms, &kind, &first), ANCHOR_RESULT_OK);
  const char *other = "{\"id\":\"evt_other\",\"type\":\"task.completed\",\"created\":\"2026-05-24T12:18:05Z\",\"data\":{}}";
  anchor_signed_headers *other_signed = sign_or_die(TEST_SECRET, (const uint8_t *)other, strlen(other), TEST_NOW);
  CHECK_RESULT(anchor_signed_headers_get(other_signed, &forged_headers, &forged_n), ANCHOR_RESULT_OK);
  second = NULL;
  CHECK_RESULT(receive(receiver, other, forged_headers, forged_n, now_ms, &kind, &second),
               ANCHOR_RESULT_STORE_UNAVAILABLE);
  CHECK(second == NULL, "no event");
  CHECK_RESULT(anchor_receiver_last_error(receiver, (uint8_t *)message, sizeof message, &written), ANCHOR_RESULT_OK);
  CHECK(strstr(message, "the memory store is full of claims in progress (maximum entries: 1)") != NULL, "%.*s",
        (int)written, message);
  uint16_t status = 0;
  CHECK_RESULT(anchor_result_http_status(ANCHOR_RESULT_STORE_UNAVAILABLE, &status), ANCHOR_RESULT_OK);
  CHECK(status == 503, "503");
  /* Full of a completed id, the oldest completed one makes room. */
  CHECK_RESULT(anchor_receiver_complete(receiver, first, now_ms, &done), ANCHOR_RESULT_OK);
  CHECK_RESULT(receive(receiver, other, forged_headers, forged_n, now_ms, &kind, &second), ANCHOR_RESULT_OK);
  CHECK(kind == ANCHOR_RECEPTION_FRESH, "fresh once the store held a completed id only, got %d", kind);
  anchor_event_free(second);
  anchor_event_free(first);
  anchor_signed_headers_free(other_signed);
  anchor_receiver_free(receiver);
  anchor_signed_headers_free(signed_headers);
}

/* This thread's anchor_last_error, NUL-terminated, in a static buffer. */
static const char *thread_message(void) {
  static char message[1024];
  size_t written = 0;
  CHECK_RESULT(anchor_last_error((uint8_t *)message, sizeof message - 1, &written), ANCHOR_RESULT_OK);
  message[written] = '\0';
  return message;
}

static void *read_thread_message(void *written_out) {
  uint8_t buf[64];
  CHECK_RESULT(anchor_last_error(buf, sizeof buf, (size_t *)written_out), ANCHOR_RESULT_OK);
  return NULL;
}

void test_messages_without_a_handle(void) {
  anchor_verifier *verifier = verifier_or_die(TEST_SECRET);
  anchor_memory_store *store = NULL;
  CHECK_RESULT(anchor_memory_store_new(10, 0, &store), ANCHOR_RESULT_INVALID_ARGUMENT);
  const char *message = thread_message();
  CHECK(strcmp(message, "invalid_argument: done_ttl_seconds must be at least 1 s: a shorter TTL forgets a completed id "
                        "at once, and every retry would run the handler again (the default is 24 h)") == 0,
        "%s", message);

  /* Sizing first: the failed sizing call must not replace the message it measures. */
  size_t needed = 0;
  CHECK_RESULT(anchor_last_error(NULL, 0, &needed), ANCHOR_RESULT_BUFFER_TOO_SMALL);
  CHECK(needed == strlen(message), "needed %zu for %zu bytes", needed, strlen(message));
  CHECK(strcmp(thread_message(), message) == 0, "the sizing call replaced the message");

  CHECK_RESULT(anchor_memory_store_new(0, 60, &store), ANCHOR_RESULT_INVALID_ARGUMENT);
  message = thread_message();
  CHECK(strcmp(message, "invalid_argument: max_entries must be at least 1: a store with room for no id claims nothing, "
                        "and every delivery would be answered 503 (the default is 100000)") == 0,
        "%s", message);

  CHECK_RESULT(anchor_memory_store_new(10, 60, &store), ANCHOR_RESULT_OK);
  CHECK(strstr(thread_message(), "max_entries") != NULL, "a success cleared the message");
  anchor_receiver *receiver = NULL;
  CHECK_RESULT(anchor_receiver_new(verifier, store, 999, &receiver), ANCHOR_RESULT_INVALID_ARGUMENT);
  message = thread_message();
  CHECK(strncmp(message, "invalid_argument: lease_ms must be at least 1 s: a shorter lease expires under a running "
                         "handler", 90) == 0,
        "%s", message);
  CHECK(receiver == NULL, "receiver_out written on failure");
  CHECK_RESULT(anchor_receiver_new(verifier, store, 1000, &receiver), ANCHOR_RESULT_OK);

  /* anchor_sign has no handle: its refusals are read here too. */
  anchor_bytes one[1] = {bytes_of(TEST_SECRET)};
  anchor_sign_options injected = {(const uint8_t *)"a\nX-Evil: 1", 11, NULL, 0};
  anchor_signed_headers *signed_headers = NULL;
  const char *body = "{}";
  CHECK_RESULT(anchor_sign(ANCHOR_SCHEME_ANCHOR, one, 1, (const uint8_t *)body, 2, TEST_NOW, &injected, &signed_headers),
               ANCHOR_RESULT_MALFORMED_HEADER);
  message = thread_message();
  CHECK(strstr(message, "malformed") != NULL && strstr(message, "X-Evil") == NULL, "%s", message);
  anchor_bytes empty[1] = {bytes_of("")};
  CHECK_RESULT(anchor_sign(ANCHOR_SCHEME_ANCHOR, empty, 1, (const uint8_t *)body, 2, TEST_NOW, NULL, &signed_headers),
               ANCHOR_RESULT_INVALID_SECRET);
  CHECK(strstr(thread_message(), "secret") != NULL, "%s", thread_message());
  CHECK_RESULT(anchor_sign(7, one, 1, (const uint8_t *)body, 2, TEST_NOW, NULL, &signed_headers),
               ANCHOR_RESULT_INVALID_ARGUMENT);
  CHECK(strstr(thread_message(), "unknown scheme 7") != NULL, "%s", thread_message());
  /* A timestamp in milliseconds (13 digits) would be signed into a delivery its own verifier refuses. */
  signed_headers = NULL;
  CHECK_RESULT(anchor_sign(ANCHOR_SCHEME_ANCHOR, one, 1, (const uint8_t *)body, 2, 1716544084000ULL, NULL,
                           &signed_headers),
               ANCHOR_RESULT_MALFORMED_TIMESTAMP);
  CHECK(signed_headers == NULL, "nothing signed");
  CHECK(strcmp(thread_message(), "malformed timestamp in the timestamp given to sign (over 12 digits: milliseconds "
                                 "instead of seconds?): expected unix seconds as 1 to 12 ASCII digits") == 0,
        "%s", thread_message());
  /* The largest 12-digit timestamp still signs. */
  CHECK_RESULT(anchor_sign(ANCHOR_SCHEME_ANCHOR, one, 1, (const uint8_t *)body, 2, 999999999999ULL, NULL,
                           &signed_headers),
               ANCHOR_RESULT_OK);
  anchor_signed_headers_free(signed_headers);
  /* A NULL handle has nowhere else to keep its message. */
  CHECK_RESULT(anchor_memory_store_len(NULL, &needed), ANCHOR_RESULT_NULL_PARAMETER);
  CHECK(strcmp(thread_message(), "null_parameter: `store` is NULL") == 0, "%s", thread_message());

  /* Messages are per thread: a thread with no failure reads none. */
  size_t other_written = 99;
  pthread_t other;
  CHECK(pthread_create(&other, NULL, read_thread_message, &other_written) == 0, "spawn");
  CHECK(pthread_join(other, NULL) == 0, "join");
  CHECK(other_written == 0, "another thread read %zu bytes", other_written);

  anchor_receiver_free(receiver);
  anchor_memory_store_free(store);
  anchor_verifier_free(verifier);
}
