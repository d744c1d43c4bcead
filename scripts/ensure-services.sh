#!/usr/bin/env bash
# Start the local services the test-suite talks to, when they are not already up.
# PostgreSQL and Redis come from Debian's packages on this kind of machine.
set -u
if command -v pg_isready >/dev/null 2>&1; then
  if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
    for _ in $(seq 1 20); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 0.5; done
  fi
fi
if command -v redis-cli >/dev/null 2>&1; then
  if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
  fi
fi
# Headless Chromium for the report's browser test.
if ! command -v chromium >/dev/null 2>&1; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
    || echo "warning: could not install chromium" >&2
fi
# poppler-utils: the report's PDF test reads report.pdf back (pdftotext, pdftoppm, pdfinfo).
if ! command -v pdftoppm >/dev/null 2>&1; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils >/dev/null) \
    || echo "warning: could not install poppler-utils" >&2
fi
# nginx and Caddy validate deploy/'s reverse-proxy files (tests/test_deploy.py). In a container
# their services stay stopped; on a workstation: systemctl disable --now nginx caddy.
if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ] || ! command -v caddy >/dev/null 2>&1; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx caddy >/dev/null) \
    || echo "warning: could not install nginx and caddy" >&2
fi
exit 0
