/* Hostile calls: NULL for every pointer parameter of every function (bindings-c/test.sh checks that every
 * function of the header is named here), zero lengths, non-UTF-8 bytes, and threads sharing handles. */
#include "harness.h"

#include <pthread.h>

#define NUL ANCHOR_RESULT_NULL_PARAMETER
#define OK ANCHOR_RESULT_OK

void test_null_parameters(void) {
  const char *body = TEST_BODY;
  const uint8_t *b = (const uint8_t *)body;
  size_t bl = strlen(body);
  anchor_signed_headers *sh = sign_or_die(TEST_SECRET, b, bl, TEST_NOW);
  const anchor_header *h;
  size_t hn;
  CHECK_RESULT(anchor_signed_headers_get(sh, &h, &hn), OK);
  anchor_verifier *v = verifier_or_die(TEST_SECRET);
  anchor_event *e = NULL;
  CHECK_RESULT(anchor_verifier_verify(v, h, hn, b, bl, TEST_NOW, &e), OK);
  uint8_t buf[64];
  size_t written = 77;
  anchor_bytes view = {(const uint8_t *)"untouched", 9};
  anchor_bytes secrets[1] = {bytes_of(TEST_SECRET)};

  /* Functions without pointer parameters still answer. */
  CHECK(anchor_version() != NULL, "anchor_version");
  CHECK(anchor_sender_retries(0) && anchor_sender_retries(65535) && !anchor_sender_retries(200), "anchor_sender_retries at the edges");
  CHECK(anchor_now_unix_seconds() > 0 && anchor_now_unix_ms() > 0, "anchor_now_unix_seconds / _ms");
  CHECK(anchor_error_codes_count() > 0 && anchor_event_types_count() > 0, "counts");

  /* Catalogue and messages. */
  CHECK_RESULT(anchor_result_name(OK, NULL), NUL);
  CHECK_RESULT(anchor_result_message(OK, buf, sizeof buf, NULL), NUL);
  CHECK_RESULT(anchor_result_message(OK, NULL, sizeof buf, &written), NUL);
  CHECK(written == 77, "written untouched");
  CHECK_RESULT(anchor_result_http_status(OK, NULL), NUL);
  CHECK_RESULT(anchor_error_codes_get(0, NULL), NUL);
  CHECK_RESULT(anchor_event_types_get(0, NULL), NUL);

  /* Builder. */
  anchor_verifier_builder *builder = NULL;
  CHECK_RESULT(anchor_verifier_builder_new(ANCHOR_SCHEME_ANCHOR, NULL), NUL);
  CHECK_RESULT(anchor_verifier_builder_new(ANCHOR_SCHEME_ANCHOR, &builder), OK);
  CHECK_RESULT(anchor_verifier_builder_add_secret(NULL, (const uint8_t *)"s", 1), NUL);
  CHECK_RESULT(anchor_verifier_builder_add_secret(builder, NULL, 1), NUL);
  CHECK_RESULT(anchor_verifier_builder_set_tolerance(NULL, 1), NUL);
  CHECK_RESULT(anchor_verifier_builder_set_max_body_bytes(NULL, 1), NUL);
  anchor_verifier *built = NULL;
  CHECK_RESULT(anchor_verifier_builder_build(NULL, &built), NUL);
  CHECK_RESULT(anchor_verifier_builder_build(builder, NULL), NUL);
  CHECK_RESULT(anchor_verifier_builder_last_error(NULL, buf, sizeof buf, &written), NUL);
  CHECK_RESULT(anchor_verifier_builder_last_error(builder, NULL, sizeof buf, &written), NUL);
  CHECK_RESULT(anchor_verifier_builder_last_error(builder, buf, sizeof buf, NULL), NUL);
  /* The builder recorded why its own calls failed (on this thread). */
  CHECK_RESULT(anchor_verifier_builder_last_error(builder, buf, sizeof buf, &written), OK);
  CHECK(written > 0 && memcmp(buf, "null_parameter: `verifier_out`", 30) == 0, "%.*s", (int)written, buf);
  anchor_verifier_builder_free(builder);
  anchor_verifier_builder_free(NULL);

  /* Verifier. */
  anchor_verifier *nv = NULL;
  CHECK_RESULT(anchor_verifier_new(ANCHOR_SCHEME_ANCHOR, NULL, 1, &nv), NUL);
  CHECK_RESULT(anchor_verifier_new(ANCHOR_SCHEME_ANCHOR, secrets, 1, NULL), NUL);
  anchor_bytes null_secret[1] = {{NULL, 5}};
  CHECK_RESULT(anchor_verifier_new(ANCHOR_SCHEME_ANCHOR, null_secret, 1, &nv), NUL);
  CHECK(nv == NULL, "no verifier");
  anchor_event *ne = NULL;
  CHECK_RESULT(anchor_verifier_verify(NULL, h, hn, b, bl, TEST_NOW, &ne), NUL);
  CHECK_RESULT(anchor_verifier_verify(v, NULL, hn, b, bl, TEST_NOW, &ne), NUL);
  CHECK_RESULT(anchor_verifier_verify(v, h, hn, NULL, bl, TEST_NOW, &ne), NUL);
  CHECK_RESULT(anchor_verifier_verify(v, h, hn, b, bl, TEST_NOW, NULL), NUL);
  anchor_header null_name[1] = {{NULL, 3, (const uint8_t *)"x", 1}};
  anchor_header null_value[1] = {{(const uint8_t *)"x", 1, NULL, 3}};
  CHECK_RESULT(anchor_verifier_verify(v, null_name, 1, b, bl, TEST_NOW, &ne), NUL);
  CHECK_RESULT(anchor_verifier_verify(v, null_value, 1, b, bl, TEST_NOW, &ne), NUL);
  CHECK(ne == NULL, "no event");
  CHECK(strcmp(verifier_message(v), "null_parameter: `headers[].value` is NULL") == 0, "%s", verifier_message(v));
  size_t matched = 5;
  uint64_t ts = 5;
  CHECK_RESULT(anchor_verifier_verify_signature(NULL, h, hn, b, bl, TEST_NOW, &matched, &ts), NUL);
  CHECK_RESULT(anchor_verifier_verify_signature(v, NULL, hn, b, bl, TEST_NOW, &matched, &ts), NUL);
  CHECK_RESULT(anchor_verifier_verify_signature(v, h, hn, NULL, bl, TEST_NOW, &matched, &ts), NUL);
  CHECK_RESULT(anchor_verifier_verify_signature(v, h, hn, b, bl, TEST_NOW, NULL, &ts), NUL);
  CHECK_RESULT(anchor_verifier_verify_signature(v, h, hn, b, bl, TEST_NOW, &matched, NULL), NUL);
  CHECK(matched == 5 && ts == 5, "outputs untouched");
  CHECK_RESULT(anchor_verifier_last_error(NULL, buf, sizeof buf, &written), NUL);
  CHECK_RESULT(anchor_verifier_last_error(v, NULL, sizeof buf, &written), NUL);
  CHECK_RESULT(anchor_verifier_last_error(v, buf, sizeof buf, NULL), NUL);
  anchor_verifier_free(NULL);

  /* Event accessors. */
  CHECK_RESULT(anchor_event_id(NULL, &view), NUL);
  CHECK_RESULT(anchor_event_id(e, NULL), NUL);
  CHECK_RESULT(anchor_event_type(NULL, &view), NUL);
  CHECK_RESULT(anchor_event_type(e, NULL), NUL);
  CHECK_RESULT(anchor_event_created(NULL, &view), NUL);
  CHECK_RESULT(anchor_event_created(e, NULL), NUL);
  bool present = false;
  int64_t seconds = 0;
  uint32_t nanos = 0;
  CHECK_RESULT(anchor_event_created_unix(NULL, &present, &seconds, &nanos), NUL);
  CHECK_RESULT(anchor_event_created_unix(e, NULL, &seconds, &nanos), NUL);
  CHECK_RESULT(anchor_event_created_unix(e, &present, NULL, &nanos), NUL);
  CHECK_RESULT(anchor_event_created_unix(e, &present, &seconds, NULL), NUL);
  CHECK(!present && seconds == 0 && nanos == 0, "outputs untouched");
  CHECK_RESULT(anchor_event_project_id(NULL, &view), NUL);
  CHECK_RESULT(anchor_event_project_id(e, NULL), NUL);
  CHECK_RESULT(anchor_event_text(NULL, &view), NUL);
  CHECK_RESULT(anchor_event_text(e, NULL), NUL);
  CHECK_RESULT(anchor_event_data(NULL, &view), NUL);
  CHECK_RESULT(anchor_event_data(e, NULL), NUL);
  CHECK_RESULT(anchor_event_body(NULL, &view), NUL);
  CHECK_RESULT(anchor_event_body(e, NULL), NUL);
  CHECK_RESULT(anchor_event_delivery_id(NULL, &view), NUL);
  CHECK_RESULT(anchor_event_delivery_id(e, NULL), NUL);
  CHECK_RESULT(anchor_event_matched_secret(NULL, &matched), NUL);
  CHECK_RESULT(anchor_event_matched_secret(e, NULL), NUL);
  CHECK_RESULT(anchor_event_timestamp(NULL, &ts), NUL);
  CHECK_RESULT(anchor_event_timestamp(e, NULL), NUL);
  CHECK(bytes_eq(view, "untouched"), "view untouched");
  anchor_event_free(NULL);

  /* Store and receiver. */
  anchor_memory_store *store = NULL;
  CHECK_RESULT(anchor_memory_store_new(10, 60, NULL), NUL);
  CHECK_RESULT(anchor_memory_store_new(10, 60, &store), OK);
  size_t len = 9;
  CHECK_RESULT(anchor_memory_store_len(NULL, &len), NUL);
  CHECK_RESULT(anchor_memory_store_len(store, NULL), NUL);
  anchor_receiver *receiver = NULL;
  CHECK_RESULT(anchor_receiver_new(NULL, store, 1000, &receiver), NUL);
  CHECK_RESULT(anchor_receiver_new(v, NULL, 1000, &receiver), NUL);
  CHECK_RESULT(anchor_receiver_new(v, store, 1000, NULL), NUL);
  anchor_receiver *unused = NULL;
  CHECK_RESULT(anchor_receiver_new(v, store, 0, &unused), ANCHOR_RESULT_INVALID_ARGUMENT); /* would turn dedupe off */
  CHECK(unused == NULL, "receiver_out written on failure");
  anchor_memory_store *forgetful = NULL;
  CHECK_RESULT(anchor_memory_store_new(10, 0, &forgetful), ANCHOR_RESULT_INVALID_ARGUMENT);
  CHECK(forgetful == NULL, "store_out written on failure");
  anchor_memory_store *roomless = NULL;
  CHECK_RESULT(anchor_memory_store_new(0, 60, &roomless), ANCHOR_RESULT_INVALID_ARGUMENT); /* would answer 503 always */
  CHECK(roomless == NULL, "store_out written on failure");
  uint8_t message[8];
  size_t message_len = 99;
  CHECK_RESULT(anchor_last_error(NULL, sizeof message, &message_len), NUL);
  CHECK_RESULT(anchor_last_error(message, sizeof message, NULL), NUL);
  CHECK(message_len == 99, "written untouched");
  CHECK(receiver == NULL, "no receiver");
  CHECK_RESULT(anchor_receiver_new(v, store, 1000, &receiver), OK);
  anchor_reception kind = 0;
  anchor_event *re = NULL;
  uint64_t now_ms = TEST_NOW * 1000;
  CHECK_RESULT(anchor_receiver_receive(NULL, h, hn, b, bl, now_ms, &kind, &re), NUL);
  CHECK_RESULT(anchor_receiver_receive(receiver, NULL, hn, b, bl, now_ms, &kind, &re), NUL);
  CHECK_RESULT(anchor_receiver_receive(receiver, h, hn, NULL, bl, now_ms, &kind, &re), NUL);
  CHECK_RESULT(anchor_receiver_receive(receiver, h, hn, b, bl, now_ms, NULL, &re), NUL);
  CHECK_RESULT(anchor_receiver_receive(receiver, h, hn, b, bl, now_ms, &kind, NULL), NUL);
  CHECK(kind == 0 && re == NULL, "outputs untouched");
  CHECK_RESULT(anchor_memory_store_len(store, &len), OK);
  CHECK(len == 0, "a failed receive claims nothing (%zu)", len);
  CHECK_RESULT(anchor_receiver_receive(receiver, h, hn, b, bl, now_ms, &kind, &re), OK);
  bool done = false;
  CHECK_RESULT(anchor_receiver_complete(NULL, re, now_ms, &done), NUL);
  CHECK_RESULT(anchor_receiver_complete(receiver, NULL, now_ms, &done), NUL);
  CHECK_RESULT(anchor_receiver_complete(receiver, re, now_ms, NULL), NUL);
  CHECK_RESULT(anchor_receiver_release(NULL, re, now_ms, &done), NUL);
  CHECK_RESULT(anchor_receiver_release(receiver, NULL, now_ms, &done), NUL);
  CHECK_RESULT(anchor_receiver_release(receiver, re, now_ms, NULL), NUL);
  CHECK(!done, "done untouched");
  CHECK_RESULT(anchor_receiver_last_error(NULL, buf, sizeof buf, &written), NUL);
  CHECK_RESULT(anchor_receiver_last_error(receiver, NULL, sizeof buf, &written), NUL);
  CHECK_RESULT(anchor_receiver_last_error(receiver, buf, sizeof buf, NULL), NUL);
  CHECK_RESULT(anchor_receiver_complete(receiver, re, now_ms, &done), OK);
  CHECK(done, "the claim was still held after the hostile calls");
  anchor_event_free(re);
  anchor_receiver_free(receiver);
  anchor_receiver_free(NULL);
  anchor_memory_store_free(store);
  anchor_memory_store_free(NULL);

  /* The Redis store (no server needed: nothing here connects). */
  const uint8_t *url = (const uint8_t *)"redis://127.0.0.1:1";
  anchor_redis_store_builder *rb = NULL;
  CHECK_RESULT(anchor_redis_store_builder_new(NULL, 19, &rb), NUL);
  CHECK_RESULT(anchor_redis_store_builder_new(url, 19, NULL), NUL);
  CHECK(rb == NULL, "builder_out written on failure");
  CHECK_RESULT(anchor_redis_store_builder_new(url, 19, &rb), OK);
  CHECK_RESULT(anchor_redis_store_builder_set_key_prefix(NULL, url, 5), NUL);
  CHECK_RESULT(anchor_redis_store_builder_set_key_prefix(rb, NULL, 5), NUL);
  CHECK_RESULT(anchor_redis_store_builder_set_done_ttl_seconds(NULL, 60), NUL);
  CHECK_RESULT(anchor_redis_store_builder_set_timeout_ms(NULL, 100), NUL);
  CHECK_RESULT(anchor_redis_store_builder_set_max_idle_connections(NULL, 1), NUL);
  CHECK_RESULT(anchor_redis_store_builder_set_tls_root_certificates(NULL, url, 5), NUL);
  CHECK_RESULT(anchor_redis_store_builder_set_tls_root_certificates(rb, NULL, 5), NUL);
  CHECK_RESULT(anchor_redis_store_builder_last_error(NULL, buf, sizeof buf, &written), NUL);
  CHECK_RESULT(anchor_redis_store_builder_last_error(rb, NULL, sizeof buf, &written), NUL);
  CHECK_RESULT(anchor_redis_store_builder_last_error(rb, buf, sizeof buf, NULL), NUL);
  anchor_redis_store *rs = NULL;
  CHECK_RESULT(anchor_redis_store_builder_build(NULL, &rs), NUL);
  CHECK_RESULT(anchor_redis_store_builder_build(rb, NULL), NUL);
  CHECK(rs == NULL, "store_out written on failure");
  CHECK_RESULT(anchor_redis_store_builder_set_max_idle_connections(rb, 0), OK);
  CHECK_RESULT(anchor_redis_store_builder_set_done_ttl_seconds(rb, 60), OK);
  CHECK_RESULT(anchor_redis_store_builder_build(rb, &rs), OK);
  anchor_redis_store_builder_free(rb);
  anchor_redis_store_builder_free(NULL);
  CHECK_RESULT(anchor_redis_store_check(NULL), NUL);
  CHECK_RESULT(anchor_redis_store_busy_message(NULL, 64, buf, sizeof buf, &written), NUL);
  CHECK_RESULT(anchor_redis_store_busy_message(rs, 64, buf, sizeof buf, NULL), NUL);
  CHECK_RESULT(anchor_redis_store_busy_check_message(NULL, 64, buf, sizeof buf, &written), NUL);
  CHECK_RESULT(anchor_redis_store_busy_check_message(rs, 64, buf, sizeof buf, NULL), NUL);
  CHECK_RESULT(anchor_redis_store_busy_check_message(rs, 0, buf, sizeof buf, &written), ANCHOR_RESULT_INVALID_ARGUMENT);
  CHECK_RESULT(anchor_redis_store_busy_settle_message(NULL, NULL, 64, true, buf, sizeof buf, &written), NUL);
  CHECK_RESULT(anchor_redis_store_busy_settle_message(rs, NULL, 64, false, buf, sizeof buf, &written), NUL);
  CHECK_RESULT(anchor_redis_store_last_error(NULL, buf, sizeof buf, &written), NUL);
  CHECK_RESULT(anchor_redis_store_last_error(rs, NULL, sizeof buf, &written), NUL);
  CHECK_RESULT(anchor_redis_store_last_error(rs, buf, sizeof buf, NULL), NUL);
  anchor_receiver *rr = NULL;
  CHECK_RESULT(anchor_receiver_new_redis(NULL, rs, 1000, &rr), NUL);
  CHECK_RESULT(anchor_receiver_new_redis(v, NULL, 1000, &rr), NUL);
  CHECK_RESULT(anchor_receiver_new_redis(v, rs, 1000, NULL), NUL);
  CHECK_RESULT(anchor_receiver_new_redis(v, rs, 999, &rr), ANCHOR_RESULT_INVALID_ARGUMENT);
  CHECK(rr == NULL, "receiver_out written on failure");
  anchor_redis_store_free(rs);
  anchor_redis_store_free(NULL);

  /* Signing. */
  anchor_signed_headers *ns = NULL;
  CHECK_RESULT(anchor_sign(ANCHOR_SCHEME_ANCHOR, NULL, 1, b, bl, TEST_NOW, NULL, &ns), NUL);
  CHECK_RESULT(anchor_sign(ANCHOR_SCHEME_ANCHOR, null_secret, 1, b, bl, TEST_NOW, NULL, &ns), NUL);
  CHECK_RESULT(anchor_sign(ANCHOR_SCHEME_ANCHOR, secrets, 1, NULL, bl, TEST_NOW, NULL, &ns), NUL);
  CHECK_RESULT(anchor_sign(ANCHOR_SCHEME_ANCHOR, secrets, 1, b, bl, TEST_NOW, NULL, NULL), NUL);
  /* An option field given as (NULL, n > 0) is refused like any other input; only (NULL, 0) is "default". */
  anchor_sign_options null_id = {NULL, 5, NULL, 0};
  CHECK_RESULT(anchor_sign(ANCHOR_SCHEME_ANCHOR, secrets, 1, b, bl, TEST_NOW, &null_id, &ns), NUL);
  anchor_sign_options null_type = {(const uint8_t *)"delivery-1", 10, NULL, 14};
  CHECK_RESULT(anchor_sign(ANCHOR_SCHEME_ANCHOR, secrets, 1, b, bl, TEST_NOW, &null_type, &ns), NUL);
  CHECK(ns == NULL, "nothing signed");
  /* NULL options (and (NULL, 0) option fields) mean the defaults. */
  anchor_sign_options defaults = {NULL, 0, NULL, 0};
  CHECK_RESULT(anchor_sign(ANCHOR_SCHEME_ANCHOR, secrets, 1, b, bl, TEST_NOW, &defaults, &ns), OK);
  const anchor_header *sh_headers = NULL;
  size_t sh_len = 0;
  CHECK_RESULT(anchor_signed_headers_get(NULL, &sh_headers, &sh_len), NUL);
  CHECK_RESULT(anchor_signed_headers_get(ns, NULL, &sh_len), NUL);
  CHECK_RESULT(anchor_signed_headers_get(ns, &sh_headers, NULL), NUL);
  CHECK(sh_headers == NULL && sh_len == 0, "outputs untouched");
  anchor_signed_headers_free(ns);
  anchor_signed_headers_free(NULL);

  anchor_event_free(e);
  anchor_verifier_free(v);
  anchor_signed_headers_free(sh);
}

void test_zero_lengths(void) {
  const char *body = TEST_BODY;
  anchor_signed_headers *sh = sign_or_die(TEST_SECRET, (const uint8_t *)body, strlen(body), TEST_NOW);
  const anchor_header *h;
  size_t hn;
  CHECK_RESULT(anchor_signed_headers_get(sh, &h, &hn), OK);
  anchor_verifier *v = verifier_or_die(TEST_SECRET);
  anchor_event *e = NULL;
  /* No headers at all, (NULL, 0) and (pointer, 0). */
  CHECK_RESULT(anchor_verifier_verify(v, NULL, 0, (const uint8_t *)body, strlen(body), TEST_NOW, &e),
               ANCHOR_RESULT_MISSING_HEADER);
  CHECK_RESULT(anchor_verifier_verify(v, h, 0, (const uint8_t *)body, strlen(body), TEST_NOW, &e),
               ANCHOR_RESULT_MISSING_HEADER);
  /* An empty body: (NULL, 0) is empty; the message points at a consumed body. */
  CHECK_RESULT(anchor_verifier_verify(v, h, hn, NULL, 0, TEST_NOW, &e), ANCHOR_RESULT_SIGNATURE_MISMATCH);
  CHECK(strstr(verifier_message(v), "body is empty") != NULL, "%s", verifier_message(v));
  /* An empty body signed as such verifies its signature, and is not a valid envelope. */
  anchor_signed_headers *empty = sign_or_die(TEST_SECRET, NULL, 0, TEST_NOW);
  const anchor_header *eh;
  size_t en;
  CHECK_RESULT(anchor_signed_headers_get(empty, &eh, &en), OK);
  size_t matched;
  uint64_t ts;
  CHECK_RESULT(anchor_verifier_verify_signature(v, eh, en, NULL, 0, TEST_NOW, &matched, &ts), OK);
  CHECK_RESULT(anchor_verifier_verify(v, eh, en, (const uint8_t *)"", 0, TEST_NOW, &e), ANCHOR_RESULT_INVALID_PAYLOAD);
  anchor_signed_headers_free(empty);
  /* Empty header names and values. */
  anchor_header blank[2] = {{NULL, 0, NULL, 0}, {(const uint8_t *)"Anchor-Signature", 16, NULL, 0}};
  CHECK_RESULT(anchor_verifier_verify(v, blank, 2, (const uint8_t *)body, strlen(body), TEST_NOW, &e),
               ANCHOR_RESULT_MISSING_HEADER);
  CHECK(e == NULL, "no event");
  /* No secrets, and an empty secret. */
  anchor_verifier *nv = NULL;
  CHECK_RESULT(anchor_verifier_new(ANCHOR_SCHEME_ANCHOR, NULL, 0, &nv), ANCHOR_RESULT_INVALID_SECRET);
  anchor_bytes empty_secret[1] = {{NULL, 0}};
  CHECK_RESULT(anchor_verifier_new(ANCHOR_SCHEME_ANCHOR, empty_secret, 1, &nv), ANCHOR_RESULT_INVALID_SECRET);
  anchor_signed_headers *ns = NULL;
  CHECK_RESULT(anchor_sign(ANCHOR_SCHEME_ANCHOR, NULL, 0, NULL, 0, TEST_NOW, NULL, &ns), ANCHOR_RESULT_INVALID_SECRET);
  anchor_sign_options empty_id = {(const uint8_t *)"", 0, NULL, 0};
  anchor_bytes secrets[1] = {bytes_of(TEST_SECRET)};
  CHECK_RESULT(anchor_sign(ANCHOR_SCHEME_ANCHOR, secrets, 1, NULL, 0, TEST_NOW, &empty_id, &ns),
               ANCHOR_RESULT_MALFORMED_HEADER);
  CHECK(nv == NULL && ns == NULL, "nothing made");
  anchor_verifier_builder *builder = NULL;
  CHECK_RESULT(anchor_verifier_builder_new(ANCHOR_SCHEME_STANDARD, &builder), OK);
  CHECK_RESULT(anchor_verifier_builder_add_secret(builder, NULL, 0), OK);
  CHECK_RESULT(anchor_verifier_builder_build(builder, &nv), ANCHOR_RESULT_INVALID_SECRET);
  anchor_verifier_builder_free(builder);
  /* Zero-length buffers: the size needed is reported, nothing is written. */
  size_t written = 0;
  CHECK_RESULT(anchor_verifier_last_error(v, NULL, 0, &written), ANCHOR_RESULT_BUFFER_TOO_SMALL);
  CHECK(written == strlen(verifier_message(v)), "needed %zu", written);
  CHECK_RESULT(anchor_result_message(OK, NULL, 0, &written), ANCHOR_RESULT_BUFFER_TOO_SMALL);
  CHECK(written > 0, "needed %zu", written);
  /* A zero body limit and a zero tolerance. */
  CHECK_RESULT(anchor_verifier_builder_new(ANCHOR_SCHEME_ANCHOR, &builder), OK);
  CHECK_RESULT(anchor_verifier_builder_add_secret(builder, (const uint8_t *)TEST_SECRET, strlen(TEST_SECRET)), OK);
  CHECK_RESULT(anchor_verifier_builder_set_max_body_bytes(builder, 0), OK);
  CHECK_RESULT(anchor_verifier_builder_set_tolerance(builder, 0), OK);
  CHECK_RESULT(anchor_verifier_builder_build(builder, &nv), OK);
  CHECK_RESULT(anchor_verifier_verify(nv, h, hn, (const uint8_t *)body, strlen(body), TEST_NOW, &e),
               ANCHOR_RESULT_BODY_TOO_LARGE);
  CHECK_RESULT(anchor_verifier_verify(nv, h, hn, (const uint8_t *)body, strlen(body), TEST_NOW + 1, &e),
               ANCHOR_RESULT_TIMESTAMP_TOO_OLD);
  anchor_verifier_free(nv);
  anchor_verifier_builder_free(builder);
  anchor_verifier_free(v);
  anchor_signed_headers_free(sh);
}

void test_non_utf8_bytes(void) {
  const char *body = TEST_BODY;
  anchor_signed_headers *sh = sign_or_die(TEST_SECRET, (const uint8_t *)body, strlen(body), TEST_NOW);
  const anchor_header *h;
  size_t hn;
  CHECK_RESULT(anchor_signed_headers_get(sh, &h, &hn), OK);
  anchor_verifier *v = verifier_or_die(TEST_SECRET);
  anchor_event *e = NULL;
  anchor_header headers[8];
  memcpy(headers, h, hn * sizeof *h);

  /* An unrelated header with non-UTF-8 name and value is ignored. */
  headers[hn] = (anchor_header){(const uint8_t *)"\xff\xfe-X", 4, (const uint8_t *)"\xc3\x28\xa0\xa1", 4};
  CHECK_RESULT(anchor_verifier_verify(v, headers, hn + 1, (const uint8_t *)body, strlen(body), TEST_NOW, &e), OK);
  anchor_event_free(e);
  e = NULL;
  /* A non-UTF-8 (and non-ASCII) byte in a header the verifier reads: malformed_header. */
  for (size_t i = 0; i < hn; i++) {
    anchor_bytes name = {h[i].name, h[i].name_len};
    if (bytes_eq(name, "Anchor-Signature") || bytes_eq(name, "Anchor-Timestamp") ||
        bytes_eq(name, "Anchor-Delivery-Id") || bytes_eq(name, "Anchor-Event")) {
      memcpy(headers, h, hn * sizeof *h);
      char broken[256];
      size_t n = h[i].value_len < 200 ? h[i].value_len : 200;
      memcpy(broken, h[i].value, n);
      broken[n / 2] = (char)0xff;
      headers[i].value = (const uint8_t *)broken;
      headers[i].value_len = n;
      CHECK_RESULT(anchor_verifier_verify(v, headers, hn, (const uint8_t *)body, strlen(body), TEST_NOW, &e),
                   ANCHOR_RESULT_MALFORMED_HEADER);
      CHECK(e == NULL, "no event (header %s)", show(name));
    }
  }
  /* A validly signed body that is not UTF-8: the signature verifies, the envelope does not. */
  const uint8_t latin1[] = "{\"id\":\"evt_\xe9\",\"type\":\"t\",\"created\":\"2026-05-24T12:18:05Z\",\"data\":{}}";
  anchor_signed_headers *lh = sign_or_die(TEST_SECRET, latin1, sizeof latin1 - 1, TEST_NOW);
  const anchor_header *lhh;
  size_t lhn;
  CHECK_RESULT(anchor_signed_headers_get(lh, &lhh, &lhn), OK);
  size_t matched;
  uint64_t ts;
  CHECK_RESULT(anchor_verifier_verify_signature(v, lhh, lhn, latin1, sizeof latin1 - 1, TEST_NOW, &matched, &ts), OK);
  CHECK_RESULT(anchor_verifier_verify(v, lhh, lhn, latin1, sizeof latin1 - 1, TEST_NOW, &e),
               ANCHOR_RESULT_INVALID_PAYLOAD);
  CHECK(strstr(verifier_message(v), "UTF-8") != NULL, "%s", verifier_message(v));
  anchor_signed_headers_free(lh);
  /* Non-UTF-8 secrets: invalid_secret (the key is the secret's UTF-8 text), with the position. */
  anchor_bytes bad_secret[2] = {bytes_of("fine"), {(const uint8_t *)"\xff\xfe\xfd", 3}};
  anchor_verifier *nv = NULL;
  CHECK_RESULT(anchor_verifier_new(ANCHOR_SCHEME_ANCHOR, bad_secret, 2, &nv), ANCHOR_RESULT_INVALID_SECRET);
  anchor_verifier_builder *builder = NULL;
  CHECK_RESULT(anchor_verifier_builder_new(ANCHOR_SCHEME_ANCHOR, &builder), OK);
  CHECK_RESULT(anchor_verifier_builder_add_secret(builder, (const uint8_t *)"fine", 4), OK);
  CHECK_RESULT(anchor_verifier_builder_add_secret(builder, (const uint8_t *)"\xff", 1), ANCHOR_RESULT_INVALID_SECRET);
  char message[256];
  size_t written = 0;
  CHECK_RESULT(anchor_verifier_builder_last_error(builder, (uint8_t *)message, sizeof message, &written), OK);
  CHECK(written > 0 && strstr(message, "secret #2") && strstr(message, "UTF-8"), "%.*s", (int)written, message);
  anchor_verifier_builder_free(builder);
  anchor_signed_headers *ns = NULL;
  CHECK_RESULT(anchor_sign(ANCHOR_SCHEME_ANCHOR, bad_secret, 2, NULL, 0, TEST_NOW, NULL, &ns),
               ANCHOR_RESULT_INVALID_SECRET);
  /* Non-UTF-8 sign options cannot become header values. */
  anchor_bytes secrets[1] = {bytes_of(TEST_SECRET)};
  anchor_sign_options bad_type = {NULL, 0, (const uint8_t *)"task.\xff", 6};
  CHECK_RESULT(anchor_sign(ANCHOR_SCHEME_ANCHOR, secrets, 1, NULL, 0, TEST_NOW, &bad_type, &ns),
               ANCHOR_RESULT_MALFORMED_HEADER);
  CHECK(nv == NULL && ns == NULL, "nothing made");
  /* Unknown scheme and result numbers. */
  CHECK_RESULT(anchor_verifier_new(0xffffffffu, secrets, 1, &nv), ANCHOR_RESULT_INVALID_ARGUMENT);
  uint16_t status;
  CHECK_RESULT(anchor_result_http_status(0xffffffffu, &status), ANCHOR_RESULT_INVALID_ARGUMENT);
  anchor_verifier_free(v);
  anchor_signed_headers_free(sh);
}

/* ---- threads ---- */

#define THREADS 8
#define ROUNDS 200

struct shared {
  const anchor_verifier *verifier;
  const anchor_header *good;
  size_t good_len;
  const anchor_header *forged;
  size_t forged_len;
  const uint8_t *body;
  size_t body_len;
};

struct thread_result {
  int ok, mismatches, wrong;
};

static void *verify_rounds(void *arg) {
  const struct shared *s = arg;
  struct thread_result *r = calloc(1, sizeof *r);
  for (int i = 0; i < ROUNDS; i++) {
    anchor_event *e = NULL;
    if (i % 2 == 0) {
      if (anchor_verifier_verify(s->verifier, s->good, s->good_len, s->body, s->body_len, TEST_NOW, &e) ==
          ANCHOR_RESULT_OK) {
        anchor_bytes id;
        if (anchor_event_id(e, &id) == ANCHOR_RESULT_OK && bytes_eq(id, "evt_c1")) r->ok++;
        else r->wrong++;
        anchor_event_free(e);
      } else {
        r->wrong++;
      }
    } else {
      anchor_result result =
          anchor_verifier_verify(s->verifier, s->forged, s->forged_len, s->body, s->body_len, TEST_NOW + (uint64_t)i % 3, &e);
      /* The message read right after belongs to this thread's own failure, whatever the others do. */
      if (result == ANCHOR_RESULT_SIGNATURE_MISMATCH && e == NULL &&
          strncmp(verifier_message(s->verifier), "signature mismatch", 18) == 0)
        r->mismatches++;
      else
        r->wrong++;
    }
  }
  return r;
}

void test_concurrent_verifies(void) {
  const char *body = TEST_BODY;
  anchor_signed_headers *good = sign_or_die(TEST_SECRET, (const uint8_t *)body, strlen(body), TEST_NOW);
  anchor_signed_headers *forged = sign_or_die("forger", (const uint8_t *)body, strlen(body), TEST_NOW);
  struct shared s = {verifier_or_die(TEST_SECRET), NULL, 0, NULL, 0, (const uint8_t *)body, strlen(body)};
  CHECK_RESULT(anchor_signed_headers_get(good, &s.good, &s.good_len), OK);
  CHECK_RESULT(anchor_signed_headers_get(forged, &s.forged, &s.forged_len), OK);
  pthread_t threads[THREADS];
  for (int t = 0; t < THREADS; t++) CHECK(pthread_create(&threads[t], NULL, verify_rounds, &s) == 0, "spawn");
  int ok = 0, mismatches = 0, wrong = 0;
  for (int t = 0; t < THREADS; t++) {
    struct thread_result *r = NULL;
    CHECK(pthread_join(threads[t], (void **)&r) == 0, "join");
    ok += r->ok;
    mismatches += r->mismatches;
    wrong += r->wrong;
    free(r);
  }
  CHECK(wrong == 0, "%d wrong results", wrong);
  CHECK(ok + mismatches == THREADS * ROUNDS && ok > 0 && mismatches > 0, "%d ok, %d mismatches", ok, mismatches);
  /* The main thread made no failing call: it has no message, whatever the threads did. */
  size_t written = 1;
  char buf[8];
  CHECK_RESULT(anchor_verifier_last_error(s.verifier, (uint8_t *)buf, sizeof buf, &written), OK);
  CHECK(written == 0, "the main thread sees no other thread's message");
  anchor_verifier_free((anchor_verifier *)s.verifier);
  anchor_signed_headers_free(good);
  anchor_signed_headers_free(forged);
}

struct receive_shared {
  const anchor_receiver *receiver;
  const anchor_header *headers;
  size_t headers_len;
  const uint8_t *body;
  size_t body_len;
  pthread_barrier_t start;
};

static void *receive_once(void *arg) {
  struct receive_shared *s = arg;
  pthread_barrier_wait(&s->start);
  anchor_reception kind = 0;
  anchor_event *e = NULL;
  anchor_result result =
      anchor_receiver_receive(s->receiver, s->headers, s->headers_len, s->body, s->body_len, TEST_NOW * 1000, &kind, &e);
  intptr_t outcome = result == ANCHOR_RESULT_OK ? (intptr_t)kind : -1;
  if (kind == ANCHOR_RECEPTION_FRESH) {
    bool done = false;
    if (anchor_receiver_complete(s->receiver, e, TEST_NOW * 1000, &done) != ANCHOR_RESULT_OK || !done) outcome = -2;
  }
  anchor_event_free(e);
  return (void *)outcome;
}

void test_concurrent_receives(void) {
  const char *body = TEST_BODY;
  anchor_signed_headers *sh = sign_or_die(TEST_SECRET, (const uint8_t *)body, strlen(body), TEST_NOW);
  anchor_verifier *v = verifier_or_die(TEST_SECRET);
  anchor_memory_store *store = NULL;
  CHECK_RESULT(anchor_memory_store_new(100, 3600, &store), OK);
  struct receive_shared s;
  memset(&s, 0, sizeof s);
  s.body = (const uint8_t *)body;
  s.body_len = strlen(body);
  anchor_receiver *receiver = NULL;
  CHECK_RESULT(anchor_receiver_new(v, store, ANCHOR_DEFAULT_LEASE_MS, &receiver), OK);
  s.receiver = receiver;
  CHECK_RESULT(anchor_signed_headers_get(sh, &s.headers, &s.headers_len), OK);
  pthread_barrier_init(&s.start, NULL, THREADS);
  pthread_t threads[THREADS];
  for (int t = 0; t < THREADS; t++) CHECK(pthread_create(&threads[t], NULL, receive_once, &s) == 0, "spawn");
  int fresh = 0, others = 0, bad = 0;
  for (int t = 0; t < THREADS; t++) {
    void *outcome = NULL;
    pthread_join(threads[t], &outcome);
    intptr_t o = (intptr_t)outcome;
    if (o == ANCHOR_RECEPTION_FRESH) fresh++;
    else if (o == ANCHOR_RECEPTION_IN_PROGRESS || o == ANCHOR_RECEPTION_DUPLICATE) others++;
    else bad++;
  }
  CHECK(fresh == 1 && others == THREADS - 1 && bad == 0, "exactly one fresh claim: %d fresh, %d others, %d bad",
        fresh, others, bad);
  pthread_barrier_destroy(&s.start);
  anchor_receiver_free(receiver);
  anchor_memory_store_free(store);
  anchor_verifier_free(v);
  anchor_signed_headers_free(sh);
}

struct settle_shared {
  const anchor_receiver *receiver;
  const anchor_event *event;
  pthread_barrier_t start;
};

/* Completes (even threads) or releases (odd ones) the one shared claim: 1 if this call settled it, 0 if it was
 * refused as already settled, -1 for anything else. */
static void *settle_once(void *arg) {
  struct settle_shared *s = arg;
  static int next = 0;
  int me = __atomic_fetch_add(&next, 1, __ATOMIC_SEQ_CST);
  pthread_barrier_wait(&s->start);
  bool done = false;
  anchor_result r = me % 2 == 0 ? anchor_receiver_complete(s->receiver, s->event, TEST_NOW * 1000, &done)
                                : anchor_receiver_release(s->receiver, s->event, TEST_NOW * 1000, &done);
  intptr_t outcome = r == ANCHOR_RESULT_OK && done ? 1 : r == ANCHOR_RESULT_INVALID_ARGUMENT ? 0 : -1;
  return (void *)outcome;
}

void test_concurrent_settles(void) {
  const char *body = TEST_BODY;
  anchor_signed_headers *sh = sign_or_die(TEST_SECRET, (const uint8_t *)body, strlen(body), TEST_NOW);
  const anchor_header *h;
  size_t hn;
  CHECK_RESULT(anchor_signed_headers_get(sh, &h, &hn), OK);
  anchor_verifier *v = verifier_or_die(TEST_SECRET);
  anchor_memory_store *store = NULL;
  CHECK_RESULT(anchor_memory_store_new(100, 3600, &store), OK);
  anchor_receiver *receiver = NULL;
  CHECK_RESULT(anchor_receiver_new(v, store, ANCHOR_DEFAULT_LEASE_MS, &receiver), OK);
  anchor_reception kind = 0;
  anchor_event *e = NULL;
  CHECK_RESULT(anchor_receiver_receive(receiver, h, hn, (const uint8_t *)body, strlen(body), TEST_NOW * 1000, &kind, &e),
               OK);
  CHECK(kind == ANCHOR_RECEPTION_FRESH, "fresh, got %d", kind);
  struct settle_shared s;
  memset(&s, 0, sizeof s);
  s.receiver = receiver;
  s.event = e;
  pthread_barrier_init(&s.start, NULL, THREADS);
  pthread_t threads[THREADS];
  for (int t = 0; t < THREADS; t++) CHECK(pthread_create(&threads[t], NULL, settle_once, &s) == 0, "spawn");
  int settled = 0, refused = 0, bad = 0;
  for (int t = 0; t < THREADS; t++) {
    void *outcome = NULL;
    pthread_join(threads[t], &outcome);
    intptr_t o = (intptr_t)outcome;
    if (o == 1) settled++;
    else if (o == 0) refused++;
    else bad++;
  }
  CHECK(settled == 1 && refused == THREADS - 1 && bad == 0, "exactly one settles: %d settled, %d refused, %d bad",
        settled, refused, bad);
  pthread_barrier_destroy(&s.start);
  anchor_event_free(e);
  anchor_receiver_free(receiver);
  anchor_memory_store_free(store);
  anchor_verifier_free(v);
  anchor_signed_headers_free(sh);
}
