#!/usr/bin/env bash
# Install the Debian packages dealergate and its tests need, once per machine.
#   fonts-noto-cjk fonts-wqy-zenhei ...  CJK fonts: the synthetic plates and gate clips draw 京沪粤…
#   libgl1 libglib2.0-0                  cv2 may come from opencv-python (pulled in by agentclpr's agentocr)
#                                        next to fast-plate-ocr's opencv-python-headless; that build links them
#   chromium                             the browser tests (tests/browser) drive it with Playwright;
#                                        Playwright's own browser download needs the internet
#   postgresql                           the server's tests run against PostgreSQL too: they start a
#                                        throw-away cluster with its initdb / pg_ctl (tests/conftest.py)
#   mosquitto                            the production MQTT broker: tests/test_mosquitto.py runs it
#                                        with systemd/mosquitto/dealergate.conf
set -euo pipefail
PACKAGES=(fonts-noto-cjk fonts-wqy-zenhei fonts-wqy-microhei fonts-arphic-ukai fonts-arphic-uming fonts-roboto fonts-liberation2 fontconfig libgl1 libglib2.0-0 chromium mosquitto postgresql)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "setup-system: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "setup-system: need root (or sudo) to install: ${missing[*]}" >&2; exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
