#!/usr/bin/env bash
# Installs what Värn needs to build, run and test on Debian 12, idempotently:
# system packages (apt; postgresql only for the server's tests on PostgreSQL, which start a
# throwaway cluster of their own; nginx only for the tests that put the server behind the
# proxy the package ships a site for, started by the tests themselves), the Rust components
# clippy/rustfmt, and tauri-driver.
# nodejs to check the UI's JavaScript parses before the window tests load it, and (with npm)
# to run the test OpenID provider (oidc-provider, which wants Node 20 or later).
# Sourced by scripts/run and scripts/test; safe to run on its own.
set -euo pipefail

PACKAGES=(
  build-essential pkg-config curl file
  libwebkit2gtk-4.1-dev librsvg2-dev libayatana-appindicator3-dev libssl-dev
  xvfb webkit2gtk-driver dbus-x11 dunst libnotify-bin xdotool imagemagick librsvg2-bin
  gnome-keyring libsecret-tools
  chromium chromium-driver poppler-utils
  postgresql python3-venv nginx
  nodejs
)
# scripts/package: rpm to read the .rpm's dependencies; sudo, through which the updater
# installs a package when no graphical prompt (pkexec) is there, as in the package check.
if [ "${VARN_PACKAGING:-0}" = 1 ]; then
  PACKAGES+=(rpm sudo systemd adduser)
fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "==> installing system packages: ${missing[*]}"
  if [ "$(id -u)" -eq 0 ]; then SUDO=(); elif command -v sudo >/dev/null; then SUDO=(sudo); else
    echo "error: need root (or sudo) to install: ${missing[*]}" >&2
    echo "       run: apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  # A fresh machine has no package lists yet; update once, then install.
  "${SUDO[@]}" apt-get update -q
  "${SUDO[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# npm, for the test OpenID provider (tests/oidc: npm ci). NodeSource's nodejs carries it;
# Debian's does not, and then Debian's npm is added.
if ! command -v npm >/dev/null; then
  echo "==> installing npm"
  if [ "$(id -u)" -eq 0 ]; then SUDO=(); else SUDO=(sudo); fi
  DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -q --no-install-recommends npm
fi

if ! command -v cargo >/dev/null; then
  echo "error: cargo not found. Install Rust from https://rustup.rs and run this again." >&2
  exit 1
fi
if command -v rustup >/dev/null; then
  for c in clippy rustfmt; do
    rustup component list --installed 2>/dev/null | grep -q "^$c" || rustup component add "$c"
  done
fi

export PATH="$HOME/.cargo/bin:$PATH"
if ! command -v tauri-driver >/dev/null; then
  echo "==> installing tauri-driver (WebDriver for the real window)"
  cargo install tauri-driver --version '^2' --locked
fi
