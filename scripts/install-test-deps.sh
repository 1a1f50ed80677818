#!/usr/bin/env bash
# Installs the real peers the tests drive when missing: SIPp (Debian's sip-tester), tcpdump and a
# PostgreSQL server (Debian's postgresql) for the store's PostgreSQL backend tests.
set -euo pipefail
need=()
command -v sipp >/dev/null 2>&1 || need+=(sip-tester)
# The media tests capture what SIPp's media port receives on loopback.
command -v tcpdump >/dev/null 2>&1 || need+=(tcpdump)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
  echo "installing: ${need[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
