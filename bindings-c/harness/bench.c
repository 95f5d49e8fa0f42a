/* The C side of bindings-c/bench.sh: anchor_verifier_verify (+ anchor_event_free) and
 * anchor_verifier_verify_signature on the inputs in $ANCHOR_BENCH_DIR, timed exactly as
 * benches/rust_baseline.rs times the core (median of 25 samples of a calibrated batch).
 * Prints `c <op> <size> <ns>` lines. With ANCHOR_BENCH_COUNT="<op> <size> <iterations>" it only runs that
 * many calls of one operation, untimed: bench.sh counts their instructions under callgrind. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "anchor_webhooks.h"

#define SAMPLES 25
#define SAMPLE_TARGET_NS 20000000.0

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

struct input {
  const anchor_verifier *verifier;
  anchor_header headers[32];
  size_t headers_len;
  uint8_t *body;
  size_t body_len;
  uint64_t now;
};

static volatile int sink;

static void verify_once(const struct input *in) {
  anchor_event *event = NULL;
  sink += anchor_verifier_verify(in->verifier, in->headers, in->headers_len, in->body, in->body_len, in->now, &event);
  anchor_event_free(event);
}

static void verify_signature_once(const struct input *in) {
  size_t matched;
  uint64_t timestamp;
  sink += anchor_verifier_verify_signature(in->verifier, in->headers, in->headers_len, in->body, in->body_len, in->now,
                                           &matched, &timestamp);
}

static double measure(void (*op)(const struct input *), const struct input *in) {
  unsigned long batch = 1;
  for (;;) {
    double start = now_ns();
    for (unsigned long i = 0; i < batch; i++) op(in);
    if (now_ns() - start >= SAMPLE_TARGET_NS / 4) break;
    batch *= 2;
  }
  batch *= 4;
  double samples[SAMPLES];
  for (int s = 0; s < SAMPLES; s++) {
    double start = now_ns();
    for (unsigned long i = 0; i < batch; i++) op(in);
    samples[s] = (now_ns() - start) / (double)batch;
  }
  qsort(samples, SAMPLES, sizeof samples[0], by_value);
  return samples[SAMPLES / 2];
}

static uint8_t *read_file(const char *dir, const char *name, size_t *len) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *file = fopen(path, "rb");
  if (file == NULL) {
    fprintf(stderr, "cannot open %s (run bindings-c/bench.sh)\n", path);
    exit(2);
  }
  fseek(file, 0, SEEK_END);
  long size = ftell(file);
  fseek(file, 0, SEEK_SET);
  uint8_t *data = malloc((size_t)size + 1);
  if (data == NULL || fread(data, 1, (size_t)size, file) != (size_t)size) exit(2);
  fclose(file);
  data[size] = 0;
  *len = (size_t)size;
  return data;
}

int main(void) {
  const char *dir = getenv("ANCHOR_BENCH_DIR");
  char count_op[32] = "", count_size[16] = "";
  unsigned long count_iterations = 0;
  const char *count = getenv("ANCHOR_BENCH_COUNT");
  if (count != NULL && sscanf(count, "%31s %15s %lu", count_op, count_size, &count_iterations) != 3) return 2;
  if (dir == NULL) {
    fprintf(stderr, "ANCHOR_BENCH_DIR is not set (run bindings-c/bench.sh)\n");
    return 2;
  }
  size_t len;
  uint8_t *secret = read_file(dir, "secret", &len);
  while (len > 0 && (secret[len - 1] == '\n' || secret[len - 1] == '\r')) len--;
  anchor_bytes secrets[1] = {{secret, len}};
  anchor_verifier *verifier = NULL;
  if (anchor_verifier_new(ANCHOR_SCHEME_ANCHOR, secrets, 1, &verifier) != ANCHOR_RESULT_OK) return 1;
  uint8_t *now_text = read_file(dir, "now", &len);
  uint64_t now = strtoull((const char *)now_text, NULL, 10);
  const char *sizes[] = {"256", "4096", "65536"};
  for (int s = 0; s < 3; s++) {
    struct input in = {verifier, {{0}}, 0, NULL, 0, now};
    char name[64];
    snprintf(name, sizeof name, "%s.body", sizes[s]);
    in.body = read_file(dir, name, &in.body_len);
    snprintf(name, sizeof name, "%s.headers", sizes[s]);
    size_t text_len;
    uint8_t *text = read_file(dir, name, &text_len);
    /* `Name: value` lines, as `anchor-webhooks sign` prints them. */
    char *save = NULL;
    for (char *line = strtok_r((char *)text, "\n", &save); line != NULL && in.headers_len < 32;
         line = strtok_r(NULL, "\n", &save)) {
      char *colon = strstr(line, ": ");
      if (colon == NULL) continue;
      in.headers[in.headers_len++] =
          (anchor_header){(const uint8_t *)line, (size_t)(colon - line), (const uint8_t *)colon + 2, strlen(colon + 2)};
    }
    anchor_event *event = NULL;
    if (anchor_verifier_verify(verifier, in.headers, in.headers_len, in.body, in.body_len, now, &event) !=
        ANCHOR_RESULT_OK) {
      fprintf(stderr, "the %s-byte bench delivery does not verify\n", sizes[s]);
      return 1;
    }
    anchor_event_free(event);
    if (count != NULL) {
      if (strcmp(count_size, sizes[s]) == 0) {
        void (*op)(const struct input *) = strcmp(count_op, "verify") == 0 ? verify_once : verify_signature_once;
        for (unsigned long i = 0; i < count_iterations; i++) op(&in);
      }
    } else {
      printf("c verify %s %.1f\n", sizes[s], measure(verify_once, &in));
      printf("c verify_signature %s %.1f\n", sizes[s], measure(verify_signature_once, &in));
      fflush(stdout);
    }
    free(text);
    free(in.body);
  }
  anchor_verifier_free(verifier);
  free(secret);
  free(now_text);
  return 0;
}
