#!/usr/bin/env bash
# Host set-up owned by k8s-img: a running Docker engine with Compose v2, and the
# build tools the project needs (mmdebstrap, gcc, Go). Idempotent and quick when
# everything is already there. Debian only; must run as root.
set -euo pipefail

say()  { printf '[setup] %s\n' "$*"; }
die()  { printf '[setup] error: %s\n[setup] hint: %s\n' "$1" "$2" >&2; exit "${3:-3}"; }

[ "$(id -u)" = 0 ] || die "not running as root" "run it as root (sudo npm run setup)" 3
[ -r /etc/os-release ] && . /etc/os-release
[ "${ID:-}" = debian ] || die "this host is '${ID:-unknown}', not Debian" \
  "install Docker (engine >= 24 with the compose plugin), mmdebstrap, gcc and Go >= 1.24 by hand, then rerun" 3

# The engine we want is trixie's: 20.10 (bookworm) cannot run --privileged on
# kernels whose bounding set lacks capabilities, 26.x can.
TRIXIE_SOURCES=/etc/apt/sources.list.d/k8s-img-trixie.sources
TRIXIE_PIN=/etc/apt/preferences.d/k8s-img-trixie
MIRROR=${K8S_IMG_DEBIAN_MIRROR:-http://deb.debian.org/debian}

need_pkgs=()
have_engine_pkgs() { dpkg-query -W -f='${Status}\n' docker.io docker-cli docker-compose 2>/dev/null | grep -c 'install ok installed' | grep -qx 3; }
have_engine_pkgs || need_pkgs+=(engine)
# make and bzip2: busybox for the e2e test images (k8s-img conformance) builds from its tarball.
for tool in mmdebstrap gcc iptables make bzip2; do command -v "$tool" >/dev/null || need_pkgs+=("$tool"); done
# musl-gcc: the e2e agnhost image's getent resolves with musl, as on upstream's Alpine.
command -v musl-gcc >/dev/null || need_pkgs+=(musl-tools)
[ -f /usr/include/mbedtls/ssl.h ] || need_pkgs+=(libmbedtls-dev)
# runc is built with cgo (its nsenter is C) and links libseccomp statically.
[ -f /usr/include/seccomp.h ] && command -v pkg-config >/dev/null || need_pkgs+=(libseccomp-dev)

if [ ${#need_pkgs[@]} -gt 0 ]; then
  say "installing: ${need_pkgs[*]}"
  if [ "$VERSION_CODENAME" = bookworm ] && [ ! -f "$TRIXIE_SOURCES" ]; then
    cat >"$TRIXIE_SOURCES" <<SRC
Types: deb
URIs: $MIRROR
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    # A low pin: nothing but what we ask for by name comes from trixie.
    printf 'Package: *\nPin: release n=trixie\nPin-Priority: 100\n' >"$TRIXIE_PIN"
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Only these three come from trixie (per-package release, not -t trixie: that
  # would also take trixie's runc and iptables and, through them, a new libc).
  engine=(docker.io docker-cli docker-compose)
  [ "$VERSION_CODENAME" = bookworm ] && engine=("${engine[@]/%//trixie}")
  apt-get install -y -qq --no-install-recommends "${engine[@]}" >/dev/null
  apt-get install -y -qq --no-install-recommends mmdebstrap gcc libc6-dev make bzip2 musl-tools libmbedtls-dev libseccomp-dev pkg-config iptables ca-certificates curl >/dev/null
fi

command -v go >/dev/null || die "Go is not installed" "install Go >= 1.24 (it builds the Kubernetes components from the Go module proxy)" 4

if ! docker info >/dev/null 2>&1; then
  say "starting dockerd"
  mkdir -p /var/log
  if command -v systemctl >/dev/null && systemctl is-system-running >/dev/null 2>&1; then
    systemctl start docker
  else
    nohup /usr/sbin/dockerd >/var/log/k8s-img-dockerd.log 2>&1 &
  fi
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
  docker info >/dev/null 2>&1 || die "dockerd did not start" "see /var/log/k8s-img-dockerd.log" 5
fi
# Every local node runs a kubelet, containerd and Calico, each holding inotify
# instances; the default 128 per user runs out with a few clusters on one machine
# (containerd then starts without its CRI plugin). kind asks for the same.
for kv in fs.inotify.max_user_instances=512 fs.inotify.max_user_watches=524288; do
  key=${kv%=*} want=${kv#*=}
  [ "$(sysctl -n "$key")" -ge "$want" ] || sysctl -qw "$kv"
done
docker compose version >/dev/null 2>&1 || die "docker compose v2 is missing" "install the docker-compose package (Compose v2 plugin)" 5
say "engine $(docker version -f '{{.Server.Version}}'), $(docker compose version --short | sed 's/^/compose /'), go $(go env GOVERSION)"
