#!/usr/bin/env bash
# Debian packages the tests need (LibreOffice for the .docx → PDF check, Chromium for the
# browser test, poppler for pdftoppm, PostgreSQL for the workspace-on-a-server tests: the tests
# start their own server as the postgres user). Installed once; skipped when already present.
set -euo pipefail
need=()
command -v soffice >/dev/null 2>&1 || need+=(libreoffice-writer)
command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
# Debian keeps initdb/postgres out of PATH, under /usr/lib/postgresql/<major>/bin.
{ command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; } || need+=(postgresql)
fc-list 2>/dev/null | grep -qi "Noto Sans CJK\|Noto Serif CJK" || need+=(fonts-noto-cjk)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ] && ! command -v sudo >/dev/null; then
    echo "缺少系统软件包：${need[*]}；请以 root 身份安装。相关测试将跳过。" >&2
    exit 0
  fi
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  echo "安装系统软件包：${need[*]} …"
  $SUDO apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
