#!/bin/bash
# Inside the test container (systemd-nspawn, real systemd, private network): install ansible-core
# from the host's wheels, run the netagent role with `-c local` five times, and record what the
# pytest side asserts. Results go to /out (check.log: one `key value` fact per line).
set -u
export LANG=C.UTF-8 LC_ALL=C.UTF-8 ANSIBLE_ROLES_PATH=/roles ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0
out=/out/check.log
: > "$out"
fact() { echo "$*" | tee -a "$out"; }
finish() {
  journalctl -u netagent.service --no-pager -o cat > /out/journal.log 2>&1
  fact "RESULT $1"
  systemctl exit "$1"
  exit "$1"
}
fail() { fact "FAIL: $*"; finish 1; }
wait_for() {  # wait_for SECONDS CMD...: poll until CMD succeeds or the deadline passes
  local deadline=$((SECONDS + $1)); shift
  until "$@"; do [ $SECONDS -ge $deadline ] && return 1; sleep 0.1; done
}
mtu() { cat "/sys/class/net/$1/mtu"; }
mtu_is() { [ "$(mtu "$1")" = "$2" ]; }
main_pid() { systemctl show -P MainPID netagent.service; }
play() {  # play NAME ARGS...: one ansible-playbook run, its output in /out/NAME.log, its recap as facts
  local name=$1; shift
  /opt/ansible/bin/ansible-playbook -c local -i localhost, /playbook/site.yml \
    -e ansible_python_interpreter=/opt/ansible/bin/python "$@" > "/out/$name.log" 2>&1
  fact "$name rc $?"
  fact "$name recap $(grep -E '^localhost +:' "/out/$name.log" | tr -s ' ')"
  # what the `netagent plan` task said: changed, ok or skipping (not in check mode)
  fact "$name plan_task $(grep -A1 'TASK \[netagent : Run netagent plan\]' "/out/$name.log" | tail -n 1 | cut -d: -f1)"
}

python3 -m venv /opt/ansible || fail "venv"
/opt/ansible/bin/pip install -q --no-index --find-links /ansible-wheels ansible-core || fail "pip install ansible-core"
fact "ansible $(/opt/ansible/bin/ansible --version | head -n 1)"

q="numtxqueues 8 numrxqueues 8"
ip link add lab0 $q type veth peer name peer0 $q || fail "veth"
ip link set lab0 up && ip link set peer0 up
sysctl -qw net.ipv4.tcp_mtu_probing=0
fact "mtu before $(mtu lab0)"

play check-fresh --check  # before anything is installed: must not fail, and must say it would change
fact "check-fresh venv $(test -e /opt/netagent && echo yes || echo no)"
fact "check-fresh unit $(test -e /etc/systemd/system/netagent.service && echo yes || echo no)"

play run1
wait_for 10 mtu_is lab0 9001
fact "run1 mtu $(mtu lab0)"
fact "run1 active $(systemctl is-active netagent.service)"
fact "run1 enabled $(systemctl is-enabled netagent.service)"
fact "run1 textfile $(test -s /var/lib/node-exporter-textfile/netagent.prom && echo yes || echo no)"
pid=$(main_pid)

play run2
fact "run2 pid_same $([ "$(main_pid)" = "$pid" ] && echo yes || echo no)"

play check-clean --check --diff

systemctl stop netagent.service
ip link set lab0 mtu 1500
play check-drift --check
fact "check-drift mtu $(mtu lab0)"
fact "check-drift plan $(grep -c 'lab0 mtu 1500 -> 9001' /out/check-drift.log)"
systemctl start netagent.service
wait_for 10 mtu_is lab0 9001
pid=$(main_pid)

play run-9000 -e @/playbook/profile-9000.yml
wait_for 10 mtu_is lab0 9000
fact "run-9000 mtu $(mtu lab0)"
fact "run-9000 handler $(grep -c 'RUNNING HANDLER \[netagent : Reload netagent\]' /out/run-9000.log)"
fact "run-9000 pid_same $([ "$(main_pid)" = "$pid" ] && echo yes || echo no)"
fact "run-9000 profile $(grep -c 'mtu: 9000' /etc/netagent/profile.yaml)"
finish 0
