#!/bin/bash
# Inside the test container (no network): install netagent's .deb with apt, its dependencies
# resolved by apt from a local repository of Debian archive packages (/repo), then run the
# service the package installed as an operator would. Results go to /out.
set -u
out=/out/check.log
: > "$out"
log() { echo "$*" | tee -a "$out"; }
finish() {
  journalctl -u netagent.service --no-pager -o cat > /out/journal.log 2>&1
  log "RESULT $1"
  systemctl exit "$1"
  exit "$1"
}
fail() { log "FAIL: $*"; finish 1; }
mtu() { cat "/sys/class/net/$1/mtu"; }

# Only the local repository: the archive's own sources cannot be reached from here.
rm -f /etc/apt/sources.list.d/*
echo 'deb [trusted=yes] file:/repo ./' > /etc/apt/sources.list
apt-get -q update > /out/apt.log 2>&1 || fail "apt-get update: $(tail -5 /out/apt.log)"
DEBIAN_FRONTEND=noninteractive apt-get -q -y --no-install-recommends install /deb/netagent.deb >> /out/apt.log 2>&1 \
  || fail "apt-get install: $(tail -5 /out/apt.log)"
for dep in python3-pyroute2 python3-structlog python3-yaml python3-psutil; do
  [ "$(dpkg-query -W -f '${db:Status-Status}' "$dep" 2>/dev/null)" = installed ] || fail "$dep not installed"
done
log "apt installed netagent with $(dpkg-query -W -f '${Package} ${Version}' python3-pyroute2)"

[ "$(command -v netagent)" = /usr/bin/netagent ] || fail "netagent is $(command -v netagent)"
log "installed $(netagent --version) at /usr/bin/netagent"
dpkg-query -W -f '${Conffiles}\n' netagent | grep -q '^ /etc/netagent/profile.yaml ' || fail "profile not a conffile"
for f in /usr/share/man/man8/netagent.8.gz /usr/share/bash-completion/completions/netagent \
  /usr/share/zsh/vendor-completions/_netagent /lib/systemd/system/netagent.service; do
  [ -s "$f" ] || fail "missing $f"
done
log "conffile /etc/netagent/profile.yaml, man page, bash and zsh completion, unit installed"
systemd-analyze verify netagent.service > /out/verify.log 2>&1 || fail "systemd-analyze verify: $(cat /out/verify.log)"
[ -s /out/verify.log ] && fail "systemd-analyze verify printed: $(cat /out/verify.log)"
systemctl show -P ExecStart netagent.service | grep -q 'path=/usr/bin/netagent ' || fail "ExecStart: $(systemctl show -P ExecStart netagent.service)"
[ "$(systemctl is-enabled netagent.service)" = disabled ] || fail "enabled by the package: $(systemctl is-enabled netagent.service)"
[ "$(systemctl is-active netagent.service)" = inactive ] || fail "started by the package"
log "unit verified, runs /usr/bin/netagent, installed disabled and not started"

# The operator's turn: a profile for this container's lab link, then enable and start.
q="numtxqueues 8 numrxqueues 8"
ip link add lab0 $q type veth peer name peer0 $q || fail "veth"
ip link set lab0 up && ip link set peer0 up
cat > /etc/netagent/profile.yaml <<'YAML'
name: container
interfaces:
  - match: "lab*"
    mtu: 9001
    channels: {rx: 4, tx: 4}
sysctl:
  net.ipv4.tcp_mtu_probing: 1
YAML
netagent validate /etc/netagent/profile.yaml >> "$out" 2>&1 || fail "validate"
netagent audit > /out/audit-before.txt 2>&1; [ $? = 1 ] || fail "audit before start: $(cat /out/audit-before.txt)"
systemctl enable --now netagent.service || fail "systemctl enable --now (READY=1 never came?)"
[ "$(systemctl show -P SubState netagent.service)" = running ] || fail "not running"
log "enabled and running after READY=1"
[ "$(mtu lab0)" = 9001 ] || fail "lab0 mtu $(mtu lab0)"
netagent audit > /out/audit.txt 2>&1 || fail "audit after start exited $?: $(cat /out/audit.txt)"
log "audit: compliant ($(tail -1 /out/audit.txt))"
netagent status > /out/status.txt 2>&1 || fail "status: $(cat /out/status.txt)"
log "status: daemon alive"

pid=$(systemctl show -P MainPID netagent.service)
DEBIAN_FRONTEND=noninteractive apt-get -q -y install /deb/netagent-upgrade.deb >> /out/apt.log 2>&1 || fail "upgrade"
[ "$(dpkg-query -W -f '${Version}' netagent)" = 0.1.0+upgrade1 ] || fail "not upgraded"
[ "$(systemctl show -P SubState netagent.service)" = running ] || fail "not running after the upgrade"
[ "$(systemctl show -P MainPID netagent.service)" != "$pid" ] || fail "not restarted by the upgrade"
grep -q '^name: container$' /etc/netagent/profile.yaml || fail "the upgrade replaced the edited profile"
log "upgrade restarted the enabled service and kept the edited profile"

DEBIAN_FRONTEND=noninteractive apt-get -q -y purge netagent >> /out/apt.log 2>&1 || fail "purge"
[ -e /lib/systemd/system/netagent.service ] && fail "unit left after purge"
[ -e /var/lib/netagent ] && fail "state left after purge"
[ -e /etc/netagent/profile.yaml ] && fail "conffile left after purge"
systemctl is-active -q netagent.service && fail "still running after purge"
log "purge stopped the service and removed unit, state and conffile"
finish 0
