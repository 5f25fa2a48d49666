#!/bin/bash
# Inside the container's own network namespace (systemd-nspawn --private-network): install
# netagent, start the shipped unit, and check what issue 5 asks of it. Results go to /out.
set -u
out=/out/check.log
: > "$out"
log() { echo "$*" | tee -a "$out"; }
finish() {
  journalctl -u netagent.service -u netagent-nocarve.service --no-pager -o cat > /out/journal.log 2>&1
  log "RESULT $1"
  systemctl exit "$1"
  exit "$1"
}
fail() { log "FAIL: $*"; finish 1; }
wait_for() {  # wait_for SECONDS CMD...: poll until CMD succeeds or the deadline passes
  local deadline=$((SECONDS + $1)); shift
  until "$@"; do [ $SECONDS -ge $deadline ] && return 1; sleep 0.1; done
}
mtu() { cat "/sys/class/net/$1/mtu"; }
mtu_is() { [ "$(mtu "$1")" = "$2" ]; }  # for wait_for: read the MTU on every poll

python3 -m venv /opt/netagent || fail "venv"
/opt/netagent/bin/pip install -q --no-index --find-links /wheels netagent || fail "pip install from wheels"
ln -sf /opt/netagent/bin/netagent /usr/local/bin/netagent
log "installed $(netagent --version)"

cp /check/netagent.service /etc/systemd/system/netagent.service
mkdir -p /etc/systemd/system/netagent.service.d
# Two watchdog periods must pass without a restart: make a period short enough to wait for.
printf '[Service]\nWatchdogSec=3s\n' > /etc/systemd/system/netagent.service.d/10-test-watchdog.conf
systemd-analyze verify /etc/systemd/system/netagent.service > /out/verify.log 2>&1 || fail "systemd-analyze verify: $(cat /out/verify.log)"
[ -s /out/verify.log ] && fail "systemd-analyze verify printed: $(cat /out/verify.log)"
log "verify clean"

q="numtxqueues 8 numrxqueues 8"
ip link add lab0 $q type veth peer name peer0 $q || fail "veth"
ip link set lab0 up && ip link set peer0 up
sysctl -qw net.ipv4.tcp_mtu_probing=0
mkdir -p /etc/netagent
cat > /etc/netagent/profile.yaml <<'YAML'
name: container
interfaces:
  - match: "lab*"
    mtu: 9001
    channels: {rx: 4, tx: 4}
sysctl:
  net.ipv4.tcp_rmem: "4096 131072 8388608"
  net.ipv4.tcp_mtu_probing: 1
YAML

systemctl daemon-reload
systemctl start netagent.service || fail "systemctl start (READY=1 never came?)"
[ "$(systemctl show -P ActiveState netagent.service)" = active ] || fail "not active"
[ "$(systemctl show -P SubState netagent.service)" = running ] || fail "not running"
log "active (running) after READY=1"

[ "$(mtu lab0)" = 9001 ] || fail "lab0 mtu $(mtu lab0)"
ethtool -l lab0 | tail -4 | grep -q $'RX:\t\t4' || fail "lab0 channels: $(ethtool -l lab0)"
[ "$(sysctl -n net.ipv4.tcp_mtu_probing)" = 1 ] || fail "tcp_mtu_probing not written"
[ "$(sysctl -n net.ipv4.tcp_rmem | tr -s '\t ' ' ')" = "4096 131072 8388608" ] || fail "tcp_rmem not written"
log "lab tuned: mtu 9001, rx/tx 4, sysctls written under the unit's hardening"

ip link set lab0 mtu 1500
wait_for 5 mtu_is lab0 9001 || fail "mtu change not healed"
log "mtu changed by hand was healed"

restarts=$(systemctl show -P NRestarts netagent.service)
pid=$(systemctl show -P MainPID netagent.service)
sleep 7  # more than two watchdog periods of 3 s
[ "$(systemctl show -P NRestarts netagent.service)" = "$restarts" ] || fail "restarted during the watchdog window"
[ "$(systemctl show -P MainPID netagent.service)" = "$pid" ] || fail "main pid changed"
[ "$(systemctl show -P ActiveState netagent.service)" = active ] || fail "not active after two watchdog periods"
log "no restart over two watchdog periods (NRestarts=$restarts)"

start=$(date +%s%N)
systemctl stop netagent.service || fail "stop"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$(systemctl show -P Result netagent.service)" = success ] || fail "stop result $(systemctl show -P Result netagent.service)"
[ $ms -lt 5000 ] || fail "stop took ${ms} ms"
log "stopped cleanly in ${ms} ms"

# The same unit without its /proc/sys/net carve-out cannot write sysctls: the test can fail.
sed -e '/^ReadWritePaths=\/proc\/sys\/net/d' -e 's/^Restart=.*/Restart=no/' \
    -e 's#--state-dir /var/lib/netagent#--state-dir /var/lib/netagent-nocarve#' \
    /check/netagent.service > /etc/systemd/system/netagent-nocarve.service
grep -q '^ReadWritePaths=/proc/sys/net' /etc/systemd/system/netagent-nocarve.service && fail "carve-out not removed"
sysctl -qw net.ipv4.tcp_mtu_probing=0
systemctl daemon-reload
systemctl start netagent-nocarve.service && fail "the unit without the carve-out started"
[ "$(sysctl -n net.ipv4.tcp_mtu_probing)" = 0 ] || fail "sysctl written without the carve-out"
log "without the /proc/sys/net carve-out the unit fails and writes nothing"

finish 0
