/* The Redis store through the C ABI, against the private redis-server bindings-c/test.sh starts (its port in
 * ANCHOR_TEST_REDIS_PORT, password REDIS_PASSWORD). Every run claims under a key prefix of its own, so the
 * plain, valgrind and sanitizer runs share one server without seeing each other's ids. */
#include "harness.h"
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#define REDIS_PASSWORD "c-harness-password"
#define CLOSED_PORT_URL "redis://127.0.0.1:1" /* nothing listens on port 1: refused at once */

static char run_prefix[96];
static char good_url[160];

/* Whether the server's port was given; a failed check otherwise (never a silent skip). */
static bool redis_configured(void) {
  const char *port = getenv("ANCHOR_TEST_REDIS_PORT");
  CHECK(port != NULL && *port != '\0',
        "ANCHOR_TEST_REDIS_PORT is not set: run bindings-c/test.sh, which starts a private redis-server");
  if (port == NULL || *port == '\0') return false;
  snprintf(good_url, sizeof good_url, "redis://:%s@127.0.0.1:%s/0", REDIS_PASSWORD, port);
  if (run_prefix[0] == '\0') {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    snprintf(run_prefix, sizeof run_prefix, "c-harness:%ld:%ld", (long)getpid(), (long)now.tv_nsec);
  }
  return true;
}

/* A store for `url` under `prefix` (NULL: this run's) with `timeout_ms`; NULL (and a failed check) if refused. */
static anchor_redis_store *redis_store(const char *url, const char *prefix, uint64_t timeout_ms) {
  anchor_redis_store_builder *builder = NULL;
  CHECK_RESULT(anchor_redis_store_builder_new((const uint8_t *)url, strlen(url), &builder), ANCHOR_RESULT_OK);
  if (prefix == NULL) prefix = run_prefix;
  CHECK_RESULT(anchor_redis_store_builder_set_key_prefix(builder, (const uint8_t *)prefix, strlen(prefix)),
               ANCHOR_RESULT_OK);
  CHECK_RESULT(anchor_redis_store_builder_set_timeout_ms(builder, timeout_ms), ANCHOR_RESULT_OK);
  anchor_redis_store *store = NULL;
  CHECK_RESULT(anchor_redis_store_builder_build(builder, &store), ANCHOR_RESULT_OK);
  anchor_redis_store_builder_free(builder);
  return store;
}

static anchor_receiver *redis_receiver(const anchor_verifier *verifier, const anchor_redis_store *store) {
  anchor_receiver *receiver = NULL;
  CHECK_RESULT(anchor_receiver_new_redis(verifier, store, ANCHOR_DEFAULT_LEASE_MS, &receiver), ANCHOR_RESULT_OK);
  return receiver;
}

/* The Anchor delivery of event `id`, signed at TEST_NOW. */
static anchor_signed_headers *delivery(const char *id, char *body, size_t body_cap) {
  snprintf(body, body_cap,
           "{\"id\":\"%s\",\"type\":\"task.completed\",\"created\":\"2026-05-24T12:18:05.123Z\",\"data\":{}}", id);
  return sign_or_die(TEST_SECRET, (const uint8_t *)body, strlen(body), TEST_NOW);
}

/* Receives `body` with `signed_headers`: the reception (or -1 on a failure, whose result lands in *result). */
static int receive(const anchor_receiver *receiver, const anchor_signed_headers *signed_headers, const char *body,
                   anchor_result *result, anchor_event **event_out) {
  const anchor_header *headers = NULL;
  size_t headers_len = 0;
  if (anchor_signed_headers_get(signed_headers, &headers, &headers_len) != ANCHOR_RESULT_OK) abort();
  anchor_reception kind = 0;
  anchor_event *event = NULL;
  *result = anchor_receiver_receive(receiver, headers, headers_len, (const uint8_t *)body, strlen(body),
                                    TEST_NOW * 1000, &kind, &event);
  if (event_out != NULL) *event_out = event;
  else anchor_event_free(event);
  return *result == ANCHOR_RESULT_OK ? (int)kind : -1;
}

/* What the builder refuses, naming the setter, never the URL's password. */
void test_redis_builder_refusals(void) {
  struct {
    const char *url;
    int option; /* 0 none, 1 timeout 0, 2 done TTL 0, 3 PEM roots with this URL, 4 roots that are not PEM */
    const char *expected;
  } cases[] = {
      {"http://:hunter2@127.0.0.1:6379", 0, "anchor_redis_store_builder_new (url): invalid Redis URL"},
      {"redis://:hunter2@127.0.0.1:notaport", 0, "anchor_redis_store_builder_new (url): invalid Redis URL"},
      {"rediss://:hunter2@127.0.0.1:6379/#insecure", 0, "#insecure"},
      {"redis://:hunter2@127.0.0.1:6379", 1, "anchor_redis_store_builder_set_timeout_ms: invalid Redis option: timeout"},
      {"redis://:hunter2@127.0.0.1:6379", 2,
       "anchor_redis_store_builder_set_done_ttl_seconds: invalid Redis option: done_ttl"},
      {"redis://:hunter2@127.0.0.1:6379", 3,
       "anchor_redis_store_builder_set_tls_root_certificates: TLS root certificates need a rediss:// URL"},
      {"rediss://:hunter2@127.0.0.1:6379", 4,
       "anchor_redis_store_builder_set_tls_root_certificates: invalid TLS root certificates"},
  };
  static const char pem[] = "-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n";
  static const char not_pem[] = "-----BEGIN PRIVATE KEY-----\nMAA=\n-----END PRIVATE KEY-----\n";
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    anchor_redis_store_builder *builder = NULL;
    CHECK_RESULT(anchor_redis_store_builder_new((const uint8_t *)cases[i].url, strlen(cases[i].url), &builder),
                 ANCHOR_RESULT_OK);
    if (cases[i].option == 1) CHECK_RESULT(anchor_redis_store_builder_set_timeout_ms(builder, 0), ANCHOR_RESULT_OK);
    if (cases[i].option == 2)
      CHECK_RESULT(anchor_redis_store_builder_set_done_ttl_seconds(builder, 0), ANCHOR_RESULT_OK);
    if (cases[i].option == 3)
      CHECK_RESULT(anchor_redis_store_builder_set_tls_root_certificates(builder, (const uint8_t *)pem, strlen(pem)),
                   ANCHOR_RESULT_OK);
    if (cases[i].option == 4)
      CHECK_RESULT(
          anchor_redis_store_builder_set_tls_root_certificates(builder, (const uint8_t *)not_pem, strlen(not_pem)),
          ANCHOR_RESULT_OK);
    anchor_redis_store *store = NULL;
    CHECK_RESULT(anchor_redis_store_builder_build(builder, &store), ANCHOR_RESULT_INVALID_ARGUMENT);
    CHECK(store == NULL, "case %zu: store_out written on failure", i);
    const char *message = redis_builder_message(builder);
    CHECK(strncmp(message, "invalid_argument: ", 18) == 0 && strstr(message, cases[i].expected) != NULL,
          "case %zu: message %s (expected to contain %s)", i, message, cases[i].expected);
    CHECK(strstr(message, "hunter2") == NULL, "case %zu: the password shown: %s", i, message);
    anchor_redis_store_builder_free(builder);
  }
  /* A URL or a prefix that is not UTF-8 is refused by its own call. */
  anchor_redis_store_builder *builder = NULL;
  CHECK_RESULT(anchor_redis_store_builder_new((const uint8_t *)"redis://\xff", 9, &builder),
               ANCHOR_RESULT_INVALID_ARGUMENT);
  char message[128];
  size_t written = 0;
  CHECK_RESULT(anchor_last_error((uint8_t *)message, sizeof message - 1, &written), ANCHOR_RESULT_OK);
  message[written] = '\0';
  CHECK(strcmp(message, "invalid_argument: `url` is not valid UTF-8") == 0 && builder == NULL, "message %s", message);
  CHECK_RESULT(anchor_redis_store_builder_new((const uint8_t *)"redis://127.0.0.1", 17, &builder), ANCHOR_RESULT_OK);
  CHECK_RESULT(anchor_redis_store_builder_set_key_prefix(builder, (const uint8_t *)"a\xff", 2),
               ANCHOR_RESULT_INVALID_ARGUMENT);
  CHECK(strcmp(redis_builder_message(builder), "invalid_argument: `prefix` is not valid UTF-8") == 0, "message %s",
        redis_builder_message(builder));
  /* The defaults build, and one builder makes any number of stores. */
  anchor_redis_store *first = NULL, *second = NULL;
  CHECK_RESULT(anchor_redis_store_builder_build(builder, &first), ANCHOR_RESULT_OK);
  CHECK_RESULT(anchor_redis_store_builder_build(builder, &second), ANCHOR_RESULT_OK);
  CHECK(first != NULL && second != NULL && first != second, "two stores");
  anchor_redis_store_free(first);
  anchor_redis_store_free(second);
  anchor_redis_store_builder_free(builder);
}

/* anchor_redis_store_check tells a working setup, a setup that can never work, and a server that is down. */
void test_redis_check(void) {
  if (!redis_configured()) return;
  anchor_redis_store *good = redis_store(good_url, NULL, 2000);
  CHECK_RESULT(anchor_redis_store_check(good), ANCHOR_RESULT_OK);

  char url[200];
  snprintf(url, sizeof url, "redis://:wrong-password@127.0.0.1:%s/0", getenv("ANCHOR_TEST_REDIS_PORT"));
  anchor_redis_store *wrong_password = redis_store(url, NULL, 2000);
  CHECK_RESULT(anchor_redis_store_check(wrong_password), ANCHOR_RESULT_STORE_MISCONFIGURED);
  const char *message = redis_store_message(wrong_password);
  CHECK(strcmp(message, "store_misconfigured: redis: wrong user name or password, or the user is disabled "
                        "(WRONGPASS)") == 0,
        "message %s", message);
  snprintf(url, sizeof url, "redis://127.0.0.1:%s/0", getenv("ANCHOR_TEST_REDIS_PORT"));
  anchor_redis_store *no_password = redis_store(url, NULL, 2000);
  CHECK_RESULT(anchor_redis_store_check(no_password), ANCHOR_RESULT_STORE_MISCONFIGURED);
  message = redis_store_message(no_password);
  CHECK(strstr(message, "(NOAUTH)") != NULL, "message %s", message);
  snprintf(url, sizeof url, "redis://:%s@127.0.0.1:%s/99", REDIS_PASSWORD, getenv("ANCHOR_TEST_REDIS_PORT"));
  anchor_redis_store *bad_db = redis_store(url, NULL, 2000);
  CHECK_RESULT(anchor_redis_store_check(bad_db), ANCHOR_RESULT_STORE_MISCONFIGURED);
  message = redis_store_message(bad_db);
  CHECK(strstr(message, "redis: DB index 99 is out of range") != NULL, "message %s", message);
  CHECK(strstr(message, REDIS_PASSWORD) == NULL, "the password shown: %s", message);

  anchor_redis_store *down = redis_store(CLOSED_PORT_URL, NULL, 500);
  CHECK_RESULT(anchor_redis_store_check(down), ANCHOR_RESULT_STORE_UNAVAILABLE);
  message = redis_store_message(down);
  CHECK(strncmp(message, "store_unavailable: redis: ", 26) == 0, "message %s", message);
  uint16_t status = 0;
  CHECK_RESULT(anchor_result_http_status(ANCHOR_RESULT_STORE_MISCONFIGURED, &status), ANCHOR_RESULT_OK);
  CHECK(status == 500, "store_misconfigured -> %u", status);

  anchor_redis_store_free(good);
  anchor_redis_store_free(wrong_password);
  anchor_redis_store_free(no_password);
  anchor_redis_store_free(bad_db);
  anchor_redis_store_free(down);
}

/* Two stores on one server (as two processes would have) see each other's claims and completions. */
void test_redis_two_receivers(void) {
  if (!redis_configured()) return;
  anchor_verifier *verifier = verifier_or_die(TEST_SECRET);
  anchor_redis_store *store_a = redis_store(good_url, NULL, 2000), *store_b = redis_store(good_url, NULL, 2000);
  anchor_receiver *a = redis_receiver(verifier, store_a), *b = redis_receiver(verifier, store_b);
  anchor_verifier_free(verifier);
  /* The receivers keep their stores alive. */
  anchor_redis_store_free(store_a);
  anchor_redis_store_free(store_b);
  char body[256];
  anchor_signed_headers *signed_headers = delivery("evt_redis_two", body, sizeof body);
  anchor_result result;
  anchor_event *claim_a = NULL, *claim_b = NULL;
  CHECK(receive(a, signed_headers, body, &result, &claim_a) == ANCHOR_RECEPTION_FRESH, "a: fresh (%s, %s)",
        result_name(result), receiver_message(a));
  CHECK(receive(b, signed_headers, body, &result, NULL) == ANCHOR_RECEPTION_IN_PROGRESS, "b: in progress");
  bool done = false;
  CHECK_RESULT(anchor_receiver_release(a, claim_a, TEST_NOW * 1000, &done), ANCHOR_RESULT_OK);
  CHECK(done, "released");
  CHECK(receive(b, signed_headers, body, &result, &claim_b) == ANCHOR_RECEPTION_FRESH, "b: fresh after the release");
  /* Settling through the other receiver is refused and leaves the claim alone. */
  CHECK_RESULT(anchor_receiver_complete(a, claim_b, TEST_NOW * 1000, &done), ANCHOR_RESULT_INVALID_ARGUMENT);
  CHECK_RESULT(anchor_receiver_complete(b, claim_b, TEST_NOW * 1000, &done), ANCHOR_RESULT_OK);
  CHECK(done, "completed");
  anchor_event *duplicate = NULL;
  CHECK(receive(a, signed_headers, body, &result, &duplicate) == ANCHOR_RECEPTION_DUPLICATE, "a: duplicate");
  anchor_bytes id = {NULL, 0};
  CHECK_RESULT(anchor_event_id(duplicate, &id), ANCHOR_RESULT_OK);
  CHECK(bytes_eq(id, "evt_redis_two"), "the duplicate's id %s", show(id));

  /* A forgery is refused before the store is asked (the id stays done, and no claim is made). */
  char forged_body[256];
  snprintf(forged_body, sizeof forged_body, "%s", body);
  anchor_signed_headers *forged = sign_or_die("not-the-secret", (const uint8_t *)forged_body, strlen(forged_body),
                                              TEST_NOW);
  CHECK(receive(a, forged, forged_body, &result, NULL) == -1 && result == ANCHOR_RESULT_SIGNATURE_MISMATCH,
        "forged: %s", result_name(result));

  /* Another key prefix is another namespace: the same id is fresh there. */
  char other_prefix[128];
  snprintf(other_prefix, sizeof other_prefix, "%s:other-endpoint", run_prefix);
  anchor_redis_store *other_store = redis_store(good_url, other_prefix, 2000);
  anchor_verifier *v = verifier_or_die(TEST_SECRET);
  anchor_receiver *other = redis_receiver(v, other_store);
  anchor_event *other_claim = NULL;
  CHECK(receive(other, signed_headers, body, &result, &other_claim) == ANCHOR_RECEPTION_FRESH,
        "fresh under another prefix");
  CHECK_RESULT(anchor_receiver_release(other, other_claim, TEST_NOW * 1000, &done), ANCHOR_RESULT_OK);

  anchor_event_free(other_claim);
  anchor_receiver_free(other);
  anchor_redis_store_free(other_store);
  anchor_verifier_free(v);
  anchor_signed_headers_free(forged);
  anchor_event_free(duplicate);
  anchor_event_free(claim_a);
  anchor_event_free(claim_b);
  anchor_signed_headers_free(signed_headers);
  anchor_receiver_free(a);
  anchor_receiver_free(b);
}

/* A server that cannot be reached: store_unavailable (HTTP 503) within the timeout, never a fresh claim; a
 * forgery is still refused as such. */
void test_redis_unavailable(void) {
  anchor_verifier *verifier = verifier_or_die(TEST_SECRET);
  anchor_redis_store *store = redis_store(CLOSED_PORT_URL, "c-harness:down", 300);
  anchor_receiver *receiver = redis_receiver(verifier, store);
  char body[256];
  anchor_signed_headers *signed_headers = delivery("evt_redis_down", body, sizeof body);
  anchor_result result;
  anchor_event *event = NULL;
  CHECK(receive(receiver, signed_headers, body, &result, &event) == -1 && result == ANCHOR_RESULT_STORE_UNAVAILABLE,
        "down: %s", result_name(result));
  CHECK(event == NULL, "no event on failure");
  const char *message = receiver_message(receiver);
  CHECK(strcmp(message, "dedupe store unavailable: redis: connection refused; answer 503 so the sender retries") == 0,
        "message %s", message);
  uint16_t status = 0;
  CHECK_RESULT(anchor_result_http_status(result, &status), ANCHOR_RESULT_OK);
  CHECK(status == 503, "status %u", status);
  anchor_signed_headers *forged = sign_or_die("not-the-secret", (const uint8_t *)body, strlen(body), TEST_NOW);
  CHECK(receive(receiver, forged, body, &result, NULL) == -1 && result == ANCHOR_RESULT_SIGNATURE_MISMATCH,
        "forged while down: %s", result_name(result));
  /* The message of a delivery a host did not send because its bound on blocked calls was reached. */
  char busy[512];
  size_t written = 0;
  CHECK_RESULT(anchor_redis_store_busy_message(store, 64, (uint8_t *)busy, sizeof busy - 1, &written),
               ANCHOR_RESULT_OK);
  busy[written] = '\0';
  CHECK(strcmp(busy, "dedupe store unavailable: redis: all 64 threads calling Redis were busy for longer than the 300 ms "
                     "timeout, so this "
                     "call was not sent (Redis is slow or unreachable); answer 503 so the sender retries") == 0,
        "busy message: %s", busy);
  /* The same for a check not sent: the message anchor_redis_store_check leaves, without a delivery's advice. */
  CHECK_RESULT(anchor_redis_store_busy_check_message(store, 1, (uint8_t *)busy, sizeof busy - 1, &written),
               ANCHOR_RESULT_OK);
  busy[written] = '\0';
  CHECK(strcmp(busy, "store_unavailable: redis: the one thread calling Redis was busy for longer than the 300 ms "
                     "timeout, so this call was not sent (Redis is slow or unreachable)") == 0,
        "busy check message: %s", busy);
  anchor_signed_headers_free(forged);
  anchor_signed_headers_free(signed_headers);
  anchor_receiver_free(receiver);
  anchor_redis_store_free(store);
  anchor_verifier_free(verifier);
}

/* A complete the hung server never answers: store_unavailable saying the handler ran unrecorded, the claim
 * left open; sent again once the server is back (the first try then ran late): its own completion, not a
 * lost claim. */
void test_redis_complete_while_hung(void) {
  if (!redis_configured()) return;
  const char *pid_text = getenv("ANCHOR_TEST_REDIS_PID");
  CHECK(pid_text != NULL, "ANCHOR_TEST_REDIS_PID is not set: run bindings-c/test.sh");
  if (pid_text == NULL) return;
  pid_t server = (pid_t)atol(pid_text);
  anchor_verifier *verifier = verifier_or_die(TEST_SECRET);
  anchor_redis_store *store = redis_store(good_url, NULL, 300);
  anchor_receiver *receiver = redis_receiver(verifier, store);
  char body[256];
  anchor_signed_headers *signed_headers = delivery("evt_redis_hung", body, sizeof body);
  anchor_result result;
  anchor_event *claim = NULL;
  CHECK(receive(receiver, signed_headers, body, &result, &claim) == ANCHOR_RECEPTION_FRESH, "fresh");
  /* The message of a complete a host did not send because its bound on blocked calls was reached; the claim
   * is left as it was. */
  char busy[512];
  size_t written = 0;
  CHECK_RESULT(
      anchor_redis_store_busy_settle_message(store, claim, 1, true, (uint8_t *)busy, sizeof busy - 1, &written),
      ANCHOR_RESULT_OK);
  busy[written] = '\0';
  CHECK(strcmp(busy, "dedupe store unavailable: the handler of event evt_redis_hung ran, but recording it as done "
                     "failed (redis: the one thread calling Redis was busy for longer than the 300 ms timeout, so "
                     "this call was not sent (Redis is slow or unreachable)); a retry after the lease runs it again; "
                     "answer 503 so the sender retries") == 0,
        "busy complete message: %s", busy);
  CHECK_RESULT(
      anchor_redis_store_busy_settle_message(store, claim, 2, false, (uint8_t *)busy, sizeof busy - 1, &written),
      ANCHOR_RESULT_OK);
  busy[written] = '\0';
  CHECK(strcmp(busy, "dedupe store unavailable: the claim on event evt_redis_hung was not released after its handler "
                     "failed (redis: all 2 threads calling Redis were busy for longer than the 300 ms timeout, so "
                     "this call was not sent (Redis is slow or unreachable)); it ends with its lease, and deliveries "
                     "of the event until then are answered in progress; answer 503 so the sender retries") == 0,
        "busy release message: %s", busy);
  CHECK_RESULT(
      anchor_redis_store_busy_settle_message(store, claim, 0, false, (uint8_t *)busy, sizeof busy - 1, &written),
      ANCHOR_RESULT_INVALID_ARGUMENT);
  CHECK(kill(server, SIGSTOP) == 0, "SIGSTOP");
  bool done = true;
  CHECK_RESULT(anchor_receiver_complete(receiver, claim, TEST_NOW * 1000, &done), ANCHOR_RESULT_STORE_UNAVAILABLE);
  CHECK(kill(server, SIGCONT) == 0, "SIGCONT");
  const char *message = receiver_message(receiver);
  CHECK(strcmp(message, "dedupe store unavailable: the handler of event evt_redis_hung ran, but recording it as done "
                        "failed (redis: timed out); a retry after the lease runs it again; answer 503 so the sender "
                        "retries") == 0,
        "message %s", message);
  CHECK_RESULT(anchor_receiver_complete(receiver, claim, TEST_NOW * 1000, &done), ANCHOR_RESULT_OK);
  CHECK(done, "the complete sent again finds its own first try: completed, not lost (%s)", receiver_message(receiver));
  /* A settled claim, or no call blocked, has no busy message to give. */
  CHECK_RESULT(
      anchor_redis_store_busy_settle_message(store, claim, 1, true, (uint8_t *)busy, sizeof busy - 1, &written),
      ANCHOR_RESULT_INVALID_ARGUMENT);
  CHECK(receive(receiver, signed_headers, body, &result, NULL) == ANCHOR_RECEPTION_DUPLICATE, "then a duplicate");
  anchor_event_free(claim);
  anchor_signed_headers_free(signed_headers);
  anchor_receiver_free(receiver);
  anchor_redis_store_free(store);
  anchor_verifier_free(verifier);
}

#define REDIS_THREADS 8
#define REDIS_IDS 50

struct redis_race {
  const anchor_receiver *receiver;
  char bodies[REDIS_IDS][256];
  anchor_signed_headers *signed_headers[REDIS_IDS];
  pthread_barrier_t start;
};

/* Receives every delivery once, completing its fresh claims: the number of fresh claims, or -1 on a failure. */
static void *receive_all(void *arg) {
  struct redis_race *race = arg;
  intptr_t fresh = 0;
  pthread_barrier_wait(&race->start);
  for (int i = 0; i < REDIS_IDS; i++) {
    anchor_result result;
    anchor_event *event = NULL;
    int kind = receive(race->receiver, race->signed_headers[i], race->bodies[i], &result, &event);
    if (kind == ANCHOR_RECEPTION_FRESH) {
      bool done = false;
      if (anchor_receiver_complete(race->receiver, event, TEST_NOW * 1000, &done) != ANCHOR_RESULT_OK || !done)
        fresh = -1000;
      fresh++;
    } else if (kind != ANCHOR_RECEPTION_DUPLICATE && kind != ANCHOR_RECEPTION_IN_PROGRESS) {
      fresh = -1000;
    }
    anchor_event_free(event);
  }
  return (void *)fresh;
}

/* 8 threads receive the same 50 events through one receiver: exactly one fresh claim per event. */
void test_redis_concurrent_claims(void) {
  if (!redis_configured()) return;
  static struct redis_race race;
  anchor_verifier *verifier = verifier_or_die(TEST_SECRET);
  anchor_redis_store *store = redis_store(good_url, NULL, 2000);
  anchor_receiver *receiver = redis_receiver(verifier, store);
  race.receiver = receiver;
  for (int i = 0; i < REDIS_IDS; i++) {
    char id[32];
    snprintf(id, sizeof id, "evt_redis_race_%d", i);
    race.signed_headers[i] = delivery(id, race.bodies[i], sizeof race.bodies[i]);
  }
  pthread_barrier_init(&race.start, NULL, REDIS_THREADS);
  pthread_t threads[REDIS_THREADS];
  for (int t = 0; t < REDIS_THREADS; t++) CHECK(pthread_create(&threads[t], NULL, receive_all, &race) == 0, "spawn");
  intptr_t fresh = 0;
  for (int t = 0; t < REDIS_THREADS; t++) {
    void *counted = NULL;
    pthread_join(threads[t], &counted);
    fresh += (intptr_t)counted;
  }
  CHECK(fresh == REDIS_IDS, "exactly one fresh claim per event: %ld for %d events", (long)fresh, REDIS_IDS);
  pthread_barrier_destroy(&race.start);
  for (int i = 0; i < REDIS_IDS; i++) anchor_signed_headers_free(race.signed_headers[i]);
  anchor_receiver_free(receiver);
  anchor_redis_store_free(store);
  anchor_verifier_free(verifier);
}
