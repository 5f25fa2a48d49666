#!/usr/bin/env bash
# The audit an operator writes today: the shell baseline of scripts/bench (issue 8).
# Per matching interface one `ethtool -i` (driver), one `ip link show` (MTU) and one `ethtool -l`
# (current RX/TX queues), then one `sysctl -n` per key; parsing stays in bash builtins, so the
# cost is the commands themselves. Prints one line per difference; exit 1 on any drift.
#
#   scripts/shell_audit.sh GLOB DRIVER MTU RX TX [KEY=VALUE ...]
#   scripts/shell_audit.sh 'lab*' veth 9000 8 8 net.ipv4.tcp_rmem='4096 131072 6291456'
set -u
glob=$1 driver=$2 mtu=$3 rx=$4 tx=$5
shift 5
drift=0
checked=0

differ() {
  echo "drift: $*"
  drift=1
}

for dev in /sys/class/net/*; do
  ifname=${dev##*/}
  # shellcheck disable=SC2053  # the glob is meant to match
  [[ $ifname != lo && $ifname == $glob ]] || continue
  checked=$((checked + 1))

  info=$(ethtool -i "$ifname" 2>&1)
  have=?
  [[ $info =~ driver:\ ([^[:space:]]+) ]] && have=${BASH_REMATCH[1]}
  [[ $have == "$driver" ]] || differ "$ifname driver $have, want $driver"

  link=$(ip link show dev "$ifname" 2>&1)
  have=?
  [[ $link =~ \ mtu\ ([0-9]+) ]] && have=${BASH_REMATCH[1]}
  [[ $have == "$mtu" ]] || differ "$ifname mtu $have, want $mtu"

  channels=$(ethtool -l "$ifname" 2>&1)
  current=${channels#*Current hardware settings:}
  have_rx=? have_tx=?
  [[ $current =~ RX:[[:space:]]+([0-9]+) ]] && have_rx=${BASH_REMATCH[1]}
  [[ $current =~ TX:[[:space:]]+([0-9]+) ]] && have_tx=${BASH_REMATCH[1]}
  [[ $have_rx == "$rx" && $have_tx == "$tx" ]] || differ "$ifname channels rx=$have_rx tx=$have_tx, want rx=$rx tx=$tx"
done

for pair in "$@"; do
  key=${pair%%=*} want=${pair#*=}
  read -r -a words <<<"$(sysctl -n "$key" 2>&1)"
  have="${words[*]}"
  [[ $have == "$want" ]] || differ "$key $have, want $want"
done

echo "shell audit: $checked interfaces, $# sysctl keys, drift=$drift"
exit "$drift"
