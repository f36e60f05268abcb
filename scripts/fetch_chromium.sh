#!/usr/bin/env bash
# Install Debian's chromium for tests/test_report_browser.py, which opens the audit report in a
# real headless browser. Nothing happens when chromium is already installed; otherwise only the
# package and a font, without recommended packages, to keep CI short (~1 min on Debian 12).
set -euo pipefail

if command -v chromium >/dev/null 2>&1; then
    echo "chromium:  $(command -v chromium)"
    exit 0
fi
sudo=""
if [[ "$(id -u)" -ne 0 ]]; then
    sudo="sudo"
fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core
echo "chromium:  $(command -v chromium)"
