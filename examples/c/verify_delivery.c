/*
 * verify_delivery: verifies a captured webhook delivery and prints its event type.
 *
 *   verify_delivery [--secret S]... [--scheme anchor|standard] [--now UNIX] HEADERS_FILE BODY_FILE
 *
 * HEADERS_FILE holds one `Name: value` per line (what `anchor-webhooks sign` prints, or a capture);
 * BODY_FILE holds the raw body bytes. Secrets come from --secret (repeat it during a rotation) or the
 * ANCHOR_WEBHOOK_SECRET environment variable. Exit 0 and the event type on stdout when the delivery
 * verifies; exit 1 with the error code, suggested HTTP status and message on stderr when it is refused;
 * exit 2 on a usage or I/O error.
 *
 * Build: cc -Wall -Wextra -Werror -std=c11 -I include examples/c/verify_delivery.c \
 *          target/release/libanchor_webhooks.a -lpthread -ldl -lm -o verify_delivery
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anchor_webhooks.h"

#define MAX_SECRETS 8
#define MAX_HEADERS 64

static int usage(const char *why) {
  fprintf(stderr, "verify_delivery: %s\n", why);
  fprintf(stderr,
          "usage: verify_delivery [--secret S]... [--scheme anchor|standard] [--now UNIX] HEADERS_FILE BODY_FILE\n");
  return 2;
}

/* Reads a whole file; the caller frees *data. */
static int read_file(const char *path, uint8_t **data, size_t *len) {
  FILE *file = fopen(path, "rb");
  if (file == NULL) return -1;
  size_t capacity = 4096, used = 0;
  uint8_t *buffer = malloc(capacity);
  size_t n;
  while (buffer != NULL && (n = fread(buffer + used, 1, capacity - used, file)) > 0) {
    used += n;
    if (used == capacity) {
      uint8_t *bigger = realloc(buffer, capacity *= 2);
      if (bigger == NULL) free(buffer);
      buffer = bigger;
    }
  }
  int failed = ferror(file) || buffer == NULL;
  fclose(file);
  if (failed) {
    free(buffer);
    return -1;
  }
  *data = buffer;
  *len = used;
  return 0;
}

/* Splits `Name: value` lines in place into headers pointing into `text`. */
static size_t parse_headers(uint8_t *text, size_t len, anchor_header *headers, size_t max) {
  size_t count = 0, start = 0;
  while (start < len && count < max) {
    size_t end = start;
    while (end < len && text[end] != '\n') end++;
    size_t line_end = end;
    if (line_end > start && text[line_end - 1] == '\r') line_end--;
    uint8_t *colon = memchr(text + start, ':', line_end - start);
    if (colon != NULL) {
      size_t value = (size_t)(colon - text) + 1;
      while (value < line_end && (text[value] == ' ' || text[value] == '\t')) value++;
      headers[count].name = text + start;
      headers[count].name_len = (size_t)(colon - text) - start;
      headers[count].value = text + value;
      headers[count].value_len = line_end - value;
      count++;
    }
    start = end + 1;
  }
  return count;
}

int main(int argc, char **argv) {
  anchor_bytes secrets[MAX_SECRETS];
  size_t secrets_len = 0;
  uint32_t scheme = ANCHOR_SCHEME_ANCHOR;
  uint64_t now = anchor_now_unix_seconds();
  const char *paths[2];
  int path_count = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--secret") == 0 && i + 1 < argc) {
      if (secrets_len == MAX_SECRETS) return usage("too many --secret");
      secrets[secrets_len].data = (const uint8_t *)argv[++i];
      secrets[secrets_len].len = strlen(argv[i]);
      secrets_len++;
    } else if (strcmp(argv[i], "--scheme") == 0 && i + 1 < argc) {
      const char *name = argv[++i];
      if (strcmp(name, "anchor") == 0) scheme = ANCHOR_SCHEME_ANCHOR;
      else if (strcmp(name, "standard") == 0) scheme = ANCHOR_SCHEME_STANDARD;
      else return usage("--scheme is anchor or standard");
    } else if (strcmp(argv[i], "--now") == 0 && i + 1 < argc) {
      now = strtoull(argv[++i], NULL, 10);
    } else if (argv[i][0] != '-' && path_count < 2) {
      paths[path_count++] = argv[i];
    } else {
      return usage("unexpected argument");
    }
  }
  if (path_count != 2) return usage("expected HEADERS_FILE and BODY_FILE");
  const char *from_env = getenv("ANCHOR_WEBHOOK_SECRET");
  if (secrets_len == 0 && from_env != NULL) {
    secrets[0].data = (const uint8_t *)from_env;
    secrets[0].len = strlen(from_env);
    secrets_len = 1;
  }

  uint8_t *header_text = NULL, *body = NULL;
  size_t header_len = 0, body_len = 0;
  if (read_file(paths[0], &header_text, &header_len) != 0 || read_file(paths[1], &body, &body_len) != 0) {
    fprintf(stderr, "verify_delivery: cannot read %s or %s\n", paths[0], paths[1]);
    free(header_text);
    return 2;
  }
  anchor_header headers[MAX_HEADERS];
  size_t headers_len = parse_headers(header_text, header_len, headers, MAX_HEADERS);

  int exit_code = 1;
  anchor_verifier *verifier = NULL;
  anchor_event *event = NULL;
  anchor_result result = anchor_verifier_new(scheme, secrets, secrets_len, &verifier);
  if (result == ANCHOR_RESULT_OK) {
    result = anchor_verifier_verify(verifier, headers, headers_len, body, body_len, now, &event);
  }
  if (result == ANCHOR_RESULT_OK) {
    anchor_bytes type;
    if (anchor_event_type(event, &type) == ANCHOR_RESULT_OK) {
      printf("%.*s\n", (int)type.len, (const char *)type.data);
      exit_code = 0;
    }
  } else {
    anchor_bytes code = {NULL, 0};
    uint16_t status = 500;
    char message[1024];
    size_t written = 0;
    anchor_result_name((uint32_t)result, &code);
    anchor_result_http_status((uint32_t)result, &status);
    if (verifier == NULL ||
        anchor_verifier_last_error(verifier, (uint8_t *)message, sizeof message, &written) != ANCHOR_RESULT_OK)
      written = 0;
    fprintf(stderr, "refused: %.*s (HTTP %u): %.*s\n", (int)code.len, (const char *)code.data, status,
            (int)written, message);
  }
  anchor_event_free(event);
  anchor_verifier_free(verifier);
  free(header_text);
  free(body);
  return exit_code;
}
