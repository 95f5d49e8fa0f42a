#!/usr/bin/env bash
# Makes sure `redis-server` (and `redis-benchmark`, from redis-tools, and `openssl`) are installed, then prints the path of
# `redis-server`. The Redis dedupe store's tests and benchmark start private instances on free loopback
# ports, so the distribution's own service must not be left running or enabled by the install.
#
# Installs with apt-get when root; otherwise it says what to run. Exits non-zero if it cannot install.
set -euo pipefail

have_all() {
  # openssl makes the certificates of the TLS (rediss://) test.
  command -v redis-server >/dev/null 2>&1 && command -v redis-benchmark >/dev/null 2>&1 \
    && command -v openssl >/dev/null 2>&1
}

if ! have_all; then
  if [[ $(id -u) -ne 0 ]]; then
    echo "ensure-redis: redis-server/redis-benchmark not found and not root: run" >&2
    echo "  sudo apt-get update && sudo apt-get install -y redis-server" >&2
    exit 1
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure-redis: redis-server not found and apt-get is not available: install redis-server (7.0 or later) by hand" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  # Forbid the package's maintainer scripts from starting the service (policy-rc.d exit 101 = "action
  # forbidden"), unless the machine already has a policy of its own, which we leave untouched.
  policy=/usr/sbin/policy-rc.d
  created_policy=0
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    created_policy=1
  fi
  cleanup() { if ((created_policy)); then rm -f "$policy"; fi; }
  trap cleanup EXIT
  echo "ensure-redis: installing redis-server with apt-get" >&2
  if ! apt-get update -qq >&2; then
    echo "ensure-redis: apt-get update failed" >&2
    exit 1
  fi
  if ! apt-get install -y -qq --no-install-recommends redis-server redis-tools openssl >&2; then
    echo "ensure-redis: apt-get install redis-server failed" >&2
    exit 1
  fi
  cleanup
  trap - EXIT
  # Whatever the policy said, leave the distribution's service stopped and disabled: the tests start
  # private servers and must not share (or collide with) a system one.
  service redis-server stop >/dev/null 2>&1 || true
  if command -v systemctl >/dev/null 2>&1; then systemctl disable --now redis-server >/dev/null 2>&1 || true; fi
  if command -v update-rc.d >/dev/null 2>&1; then update-rc.d redis-server disable >/dev/null 2>&1 || true; fi
  if ! have_all; then
    echo "ensure-redis: installed redis-server, but redis-server/redis-benchmark are still not on PATH" >&2
    exit 1
  fi
fi

command -v redis-server
