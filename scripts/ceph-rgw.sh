#!/usr/bin/env bash
# A real S3 server on this machine for tests: single-node Ceph (1 monitor, 1 memstore OSD, radosgw)
# bound to 127.0.0.1, auth off, no systemd, no containers. Data lives in memory and is gone on stop.
#
#   scripts/ceph-rgw.sh start   start a fresh cluster (stops one already running in $RUN first),
#                               create the S3 user and bucket, write $RUN/s3.env and print it on stdout
#   scripts/ceph-rgw.sh stop    stop the daemons started here (by their pid files only)
#   scripts/ceph-rgw.sh status  exit 0 when radosgw answers on its port
#
# Environment (all optional):
#   RUN          run directory (default: ${TMPDIR:-/tmp}/dreamdb-ceph-rgw); wiped by start
#   RGW_PORT     S3 port (default 7480); MON_PORT / MON_V1_PORT monitor ports (default 3300 / 6789)
#   S3_ACCESS_KEY, S3_SECRET_KEY   the S3 user's keys; S3_BUCKET bucket to create (default dreamdb)
#   WITH_MGR=1   also start ceph-mgr (radosgw does not need it)
#   STOP_GRACE   seconds stop waits after SIGTERM before SIGKILL (default 2)
# Progress goes to stderr; stdout carries only the env lines, so callers can parse them.
# Needs: ceph-mon ceph-osd radosgw ceph-common (and ceph-mgr for WITH_MGR), uuid-runtime, awscli.
set -euo pipefail

RUN=${RUN:-${TMPDIR:-/tmp}/dreamdb-ceph-rgw}
RGW_PORT=${RGW_PORT:-7480}
MON_PORT=${MON_PORT:-3300}
MON_V1_PORT=${MON_V1_PORT:-6789}
S3_ACCESS_KEY=${S3_ACCESS_KEY:-DREAMDBTESTACCESSKEY}
S3_SECRET_KEY=${S3_SECRET_KEY:-dreamdb-test-secret-key-0000000000000000}
S3_BUCKET=${S3_BUCKET:-dreamdb}
CONF=$RUN/ceph.conf
export CEPH_CONF=$CONF

t0=$(date +%s%N)
log() { printf '[ceph-rgw %5dms] %s\n' "$((($(date +%s%N) - t0) / 1000000))" "$*" >&2; }
die() {
  printf 'ceph-rgw: %s\n' "$*" >&2
  exit 1
}

# Is something listening on 127.0.0.1:$1?
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Is $1 a daemon started with this run directory's ceph.conf (and not a reused pid)?
ours() { tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -qF -- "-c $CONF "; }

# SIGTERM the daemons named by these pid files (when they are ours); SIGKILL them after STOP_GRACE
# seconds (default 2: radosgw and the OSD wait on each other and on the monitor when stopped together).
stop_daemons() {
  local f pid i alive pids=() names=()
  for f in "$@"; do
    pid=$(cat "$f" 2>/dev/null) || true
    if [ -n "$pid" ] && ours "$pid"; then
      kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid")
      names+=("$(basename "$f" .pid)")
    fi
    rm -f "$f"
  done
  [ ${#pids[@]} -gt 0 ] || return 0
  for i in $(seq 1 "$((${STOP_GRACE:-2} * 10))"); do
    alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.1
  done
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  log "stopped ${names[*]}"
}

# Stop the cluster: every daemon at once. The data lives in memory and start wipes $RUN, so there is
# nothing to flush; the daemons shut down in order when they can and are killed when they linger.
stop_cluster() {
  shopt -s nullglob
  stop_daemons "$RUN"/*.pid
  shopt -u nullglob
}

# The HTTP status radosgw answers on / (000 when nothing answers).
rgw_status() {
  python3 - "$RGW_PORT" <<'EOF' 2>/dev/null || echo 000
import sys, urllib.request, urllib.error
try:
    print(urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/", timeout=2).status)
except urllib.error.HTTPError as e:
    print(e.code)
EOF
}

env_lines() {
  cat <<EOF
export S3_ENDPOINT=http://127.0.0.1:$RGW_PORT
export S3_BUCKET=$S3_BUCKET
export AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY
export AWS_SECRET_ACCESS_KEY=$S3_SECRET_KEY
export AWS_DEFAULT_REGION=us-east-1
export DREAMDB_S3_STYLE=path
export DREAMDB_S3_IF_MATCH=bare
EOF
}

start_cluster() {
  local missing=() cmd
  for cmd in ceph-mon ceph-osd radosgw radosgw-admin ceph monmaptool uuidgen python3; do
    command -v "$cmd" >/dev/null || missing+=("$cmd")
  done
  [ -n "${WITH_MGR:-}" ] && ! command -v ceph-mgr >/dev/null && missing+=(ceph-mgr)
  [ ${#missing[@]} -eq 0 ] ||
    die "Ceph is not installed (missing ${missing[*]}); install it with: apt-get install -y --no-install-recommends ceph-mon ceph-mgr ceph-osd radosgw ceph-common uuid-runtime (npm test does this when run as root)"
  local aws=/usr/bin/aws
  [ -x "$aws" ] || aws=$(command -v aws) || die "the AWS CLI is missing (apt-get install awscli); it creates the bucket"

  # A cluster already running from this run directory is stopped first; anything else on the ports is
  # not ours, and is refused rather than killed.
  [ -d "$RUN" ] && stop_cluster
  local port
  for port in "$RGW_PORT" "$MON_PORT" "$MON_V1_PORT"; do
    port_busy "$port" && die "port $port on 127.0.0.1 is in use by another process (set RGW_PORT / MON_PORT / MON_V1_PORT)"
  done
  rm -rf "$RUN"
  mkdir -p "$RUN"/{mon.a,mgr.x,osd.0,log,asok,crash}

  local fsid mon_addr
  fsid=$(uuidgen)
  mon_addr="[v2:127.0.0.1:$MON_PORT,v1:127.0.0.1:$MON_V1_PORT]"
  cat >"$CONF" <<EOF
[global]
fsid = $fsid
mon initial members = a
mon host = $mon_addr
public addr = 127.0.0.1
cluster addr = 127.0.0.1
public network = 127.0.0.1/32
ms bind ipv6 = false

auth cluster required = none
auth service required = none
auth client required = none

run dir = $RUN
log file = $RUN/log/\$name.log
admin socket = $RUN/asok/\$name.asok
pid file = $RUN/\$name.pid
mon data = $RUN/mon.\$id
mgr data = $RUN/mgr.\$id
osd data = $RUN/osd.\$id
crash dir = $RUN/crash
log to stderr = false
err to stderr = true
mon cluster log file = $RUN/log/cluster.log

osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
mon allow pool delete = true
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon max pg per osd = 1000
osd crush chooseleaf type = 0
mon warn on pool no redundancy = false

osd objectstore = memstore
memstore device bytes = 2147483648
osd memory target = 939524096
osd op num shards = 1
osd op num threads per shard = 2
# a nearly full disk must not stop the monitor
mon data avail warn = 2
mon data avail crit = 1
mon warn on insecure global id reclaim allowed = false
mon warn on insecure global id reclaim = false
# one monitor has nobody to batch proposals with: commit map changes at once, not once a second
# (radosgw creates and tags its pools one mon command at a time)
paxos propose interval = 0.01
paxos min wait = 0.01

[mgr]
mgr initial modules =

[client.rgw.gw]
# radosgw defaults to ms_mon_client_mode=secure + cephx, which cannot work with auth none
# (it hangs retrying auth); force plain crc mode.
ms mon client mode = crc
auth client required = none
rgw frontends = beast endpoint=127.0.0.1:$RGW_PORT
rgw thread pool size = 64
rgw enable usage log = false
EOF

  monmaptool --create --clobber --fsid "$fsid" --addv a "$mon_addr" "$RUN/monmap" >/dev/null
  ceph-mon -c "$CONF" --mkfs -i a --monmap "$RUN/monmap" 2>>"$RUN/log/mon-mkfs.log"
  ceph-mon -c "$CONF" -i a
  local i
  for i in $(seq 1 60); do
    ceph --connect-timeout 2 mon stat >/dev/null 2>&1 && break
    [ "$i" = 60 ] && die "the monitor did not answer; see $RUN/log"
    sleep 0.25
  done
  log "monitor answering on 127.0.0.1:$MON_PORT"

  if [ -n "${WITH_MGR:-}" ]; then
    ceph-mgr -c "$CONF" -i x
    log "mgr started"
  fi

  local osd_uuid osd_id
  osd_uuid=$(uuidgen)
  osd_id=$(ceph osd new "$osd_uuid")
  ceph-osd -c "$CONF" -i "$osd_id" --mkfs --osd-uuid "$osd_uuid" 2>>"$RUN/log/osd-mkfs.log"
  ceph-osd -c "$CONF" -i "$osd_id" 2>>"$RUN/log/osd-start.stderr"
  for i in $(seq 1 120); do
    [ "$(ceph osd stat -f json 2>/dev/null | python3 -c 'import sys,json;print(json.load(sys.stdin)["num_up_osds"])' 2>/dev/null)" = 1 ] && break
    [ "$i" = 120 ] && die "osd.$osd_id did not come up; see $RUN/log"
    sleep 0.25
  done
  log "osd.$osd_id up"

  radosgw -c "$CONF" -n client.rgw.gw
  local code=000
  for i in $(seq 1 240); do
    code=$(rgw_status)
    [ "$code" = 200 ] && break
    sleep 0.25
  done
  [ "$code" = 200 ] || die "radosgw did not answer on 127.0.0.1:$RGW_PORT (last status $code); see $RUN/log"
  log "radosgw answering on 127.0.0.1:$RGW_PORT"

  radosgw-admin user create --uid=dreamdb --display-name="DreamDB tests" \
    --access-key="$S3_ACCESS_KEY" --secret-key="$S3_SECRET_KEY" >/dev/null 2>>"$RUN/log/radosgw-admin.log"
  AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$S3_SECRET_KEY AWS_DEFAULT_REGION=us-east-1 \
    AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
    "$aws" s3api create-bucket --endpoint-url "http://127.0.0.1:$RGW_PORT" --bucket "$S3_BUCKET" \
    >/dev/null 2>>"$RUN/log/create-bucket.log" ||
    die "creating bucket $S3_BUCKET failed; see $RUN/log/create-bucket.log"
  log "user and bucket $S3_BUCKET created"

  env_lines >"$RUN/s3.env"
  env_lines
  log "ready; source $RUN/s3.env"
}

case "${1:-}" in
  start) start_cluster ;;
  stop)
    if [ -d "$RUN" ]; then stop_cluster; fi
    ;;
  status)
    [ "$(rgw_status)" = 200 ] || die "radosgw is not answering on 127.0.0.1:$RGW_PORT"
    ;;
  *)
    echo "usage: $0 start|stop|status   (see the comment at the top of this script)" >&2
    exit 2
    ;;
esac
