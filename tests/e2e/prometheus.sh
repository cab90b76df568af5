#!/usr/bin/env bash
# Observability end to end: a real Prometheus (Debian's package) scrapes out/nfsgate every second while libnfs
# (nfs-cp, nfs-ls) runs a workload, then
#   - promtool checks the exposition (check metrics), the alert rules (check rules + their unit tests) and the
#     example scrape config;
#   - queries through Prometheus's HTTP API find the expected series with non-zero values;
#   - every PromQL expression of the Grafana dashboard (appliance/grafana/nfsgate-dashboard.json) returns data;
#   - the JSON log carries the slow-operation lines with xid, client and export, and the log level changes at runtime.
# Prometheus and nfsgate run on loopback with random ports and their state in a temp dir; both are stopped at exit.
# Ends with "N passed, M failed"; exits non-zero on any failure. Needs: prometheus (promtool), curl, jq, libnfs-utils.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
NFSGATE=${NFSGATE:-$ROOT/out/nfsgate}
DASHBOARD=$ROOT/appliance/grafana/nfsgate-dashboard.json
RULES=$ROOT/appliance/prometheus/alerts.yml
W=$(mktemp -d /tmp/nfsgate-prom.XXXXXX)
pass=0
fail=0
GATE_PID=
PROM_PID=

E2E_TAG=prometheus
. "$ROOT/tests/e2e/lib.sh"

cleanup() {
    [ -n "$PROM_PID" ] && { kill "$PROM_PID" 2>/dev/null; wait "$PROM_PID" 2>/dev/null; }
    [ -n "$GATE_PID" ] && { kill -TERM "$GATE_PID" 2>/dev/null; wait "$GATE_PID" 2>/dev/null; }
    if [ "$fail" -ne 0 ] && [ -f "$W/nfsgate.log" ]; then
        echo "--- last lines of the nfsgate log ---"; tail -n 20 "$W/nfsgate.log"
        echo "--- last lines of the prometheus log ---"; tail -n 20 "$W/prometheus.log"
    fi
    if [ "$fail" -eq 0 ] || [ "${CI:-}" = true ]; then rm -rf "$W"; else echo "kept $W"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM



for tool in prometheus promtool curl jq nfs-cp; do
    command -v "$tool" >/dev/null || { bad "$tool is installed (tests/install-deps.sh)"; echo "$pass passed, $fail failed"; exit 1; }
done

# --- static checks: rules, their unit tests, the example scrape config, the dashboard's shape ---------------------
check "promtool check rules appliance/prometheus/alerts.yml" promtool check rules "$RULES"
check "promtool test rules appliance/prometheus/alerts.test.yml" promtool test rules "$ROOT/appliance/prometheus/alerts.test.yml"
sed "s#/etc/prometheus/nfsgate-alerts.yml#$RULES#" "$ROOT/appliance/prometheus/prometheus.yml" >"$W/example.yml"
check "promtool check config appliance/prometheus/prometheus.yml" promtool check config "$W/example.yml"
jq -r '.. | objects | select(has("expr")) | .expr' "$DASHBOARD" >"$W/exprs.txt" 2>"$W/jq.err"
n_exprs=$(grep -c . "$W/exprs.txt")
if [ "$n_exprs" -ge 20 ]; then ok "dashboard JSON parses: $n_exprs expressions"; else bad "dashboard JSON: $n_exprs expressions"; cat "$W/jq.err"; fi

# --- nfsgate with a generous QoS cap (so the cap series exist) and a 1 ms slow-operation threshold -----------------
PORT=$(free_port) && HTTP=$(free_port) && PROM=$(free_port) || { bad "free ports"; echo "$pass passed, $fail failed"; exit 1; }
cat >"$W/nfsgate.json" <<JSON
{
  "listen": "127.0.0.1:$PORT", "portmapper": "off", "http": "127.0.0.1:$HTTP", "dataDir": "$W/data",
  "exports": [ { "name": "research", "path": "/", "qos": { "read": "10GiB/s", "write": "10GiB/s", "iops": 1000000 } } ],
  "log": { "format": "json", "file": "$W/logs/nfsgate.log", "slowOperation": "1ms" }
}
JSON
"$NFSGATE" serve --config "$W/nfsgate.json" >"$W/nfsgate.log" 2>&1 &
GATE_PID=$!
if wait_listen "$HTTP" "$GATE_PID" 120 && wait_listen "$PORT" "$GATE_PID" 10; then ok "nfsgate starts"; else bad "nfsgate starts"; echo "$pass passed, $fail failed"; exit 1; fi

# --- Prometheus: 1 s scrapes, the appliance's alert rules loaded ---------------------------------------------------
cat >"$W/prometheus.yml" <<YAML
global: { scrape_interval: 1s, evaluation_interval: 1s }
rule_files: [ "$RULES" ]
scrape_configs:
  - job_name: nfsgate
    static_configs: [ { targets: [ "127.0.0.1:$HTTP" ] } ]
YAML
prometheus --config.file="$W/prometheus.yml" --storage.tsdb.path="$W/prom-data" --web.listen-address="127.0.0.1:$PROM" \
    --log.level=warn >"$W/prometheus.log" 2>&1 &
PROM_PID=$!
if wait_listen "$PROM" "$PROM_PID" 60; then ok "prometheus starts"; else bad "prometheus starts"; echo "$pass passed, $fail failed"; exit 1; fi

query() {   # PromQL → the JSON result array on stdout
    curl -sf --get --data-urlencode "query=$1" "http://127.0.0.1:$PROM/api/v1/query" | jq -c '.data.result'
}
value() {   # PromQL yielding one sample → its value ("" when there is none)
    query "$1" | jq -r '.[0].value[1] // empty'
}

# --- workload: 90 s at most, at least 30 s so the dashboard's 1m windows hold many scrapes --------------------------
head -c $((16 << 20)) /dev/urandom >"$W/in.bin"
base="nfs://127.0.0.1/"
opts="version=3&nfsport=$PORT&mountport=$PORT"
start=$SECONDS
rounds=0
while [ $((SECONDS - start)) -lt 30 ] || [ "$rounds" -lt 3 ]; do
    [ $((SECONDS - start)) -ge 90 ] && break
    # Fresh names each round: nfs-cp neither overwrites an existing local file nor truncates a remote one.
    rm -f "$W/out.bin"
    nfs-cp "$W/in.bin" "$base/f$rounds.bin?$opts" >/dev/null 2>>"$W/workload.err" || echo "nfs-cp in failed" >>"$W/workload.err"
    nfs-cp "$base/f$rounds.bin?$opts" "$W/out.bin" >/dev/null 2>>"$W/workload.err" || echo "nfs-cp out failed" >>"$W/workload.err"
    # A name that does not exist: LOOKUP answers NFS3ERR_NOENT, so the error panels have a series.
    nfs-cat "$base/missing$rounds?$opts" >/dev/null 2>&1
    rounds=$((rounds + 1))
done
if cmp -s "$W/in.bin" "$W/out.bin" && ! grep -q failed "$W/workload.err" 2>/dev/null; then
    ok "workload: $rounds rounds of 16 MiB nfs-cp in and out in $((SECONDS - start)) s"
else
    bad "workload"; tail -n 5 "$W/workload.err" 2>/dev/null | sed 's/^/    /'
fi
sleep 3   # a few scrapes after the last call

# --- the exposition itself --------------------------------------------------------------------------------------
curl -s -o "$W/metrics.txt" "http://127.0.0.1:$HTTP/metrics"
check "promtool check metrics on GET /metrics ($(grep -vc '^#' "$W/metrics.txt") samples, $(wc -c <"$W/metrics.txt") bytes)" \
    bash -c 'promtool check metrics <"$1"' _ "$W/metrics.txt"
# Printed, not asserted: the cost of a scrape next to the cheapest request on the same listener (/healthz), same moment.
t_metrics=0; t_health=0
for _ in 1 2 3 4 5 6 7 8 9 10; do
    t_metrics=$(curl -s -o /dev/null -w '%{time_total}' "http://127.0.0.1:$HTTP/metrics" | awk -v t="$t_metrics" '{print t + $1}')
    t_health=$(curl -s -o /dev/null -w '%{time_total}' "http://127.0.0.1:$HTTP/healthz" | awk -v t="$t_health" '{print t + $1}')
done
awk -v m="$t_metrics" -v h="$t_health" 'BEGIN { printf "    GET /metrics %.1f ms, GET /healthz %.1f ms (mean of 10, interleaved)\n", m * 100, h * 100 }'
echo "    scrape_duration_seconds as Prometheus saw it, mean over the run: $(value 'avg_over_time(scrape_duration_seconds{job="nfsgate"}[5m])')"

# --- expected series, non-zero ---------------------------------------------------------------------------------------
nonzero() {   # name, PromQL → PASS when it yields a sample > 0
    local v; v=$(value "$2")
    if [ -n "$v" ] && awk -v v="$v" 'BEGIN { exit !(v + 0 > 0) }'; then ok "$1 = $v"; else bad "$1 (got '${v}') from $2"; fi
}
nonzero "up" 'up{job="nfsgate"}'
nonzero "WRITE calls" 'sum(nfsgate_nfs_requests_total{export="research",proc="WRITE",status="NFS3_OK"})'
nonzero "READ calls" 'sum(nfsgate_nfs_requests_total{export="research",proc="READ",status="NFS3_OK"})'
nonzero "NOENT replies" 'sum(nfsgate_nfs_requests_total{status="NFS3ERR_NOENT"})'
nonzero "write bytes = rounds x 16 MiB" "sum(nfsgate_nfs_write_bytes_total{export=\"research\"}) == $rounds * 16 * 2^20"
nonzero "read bytes = rounds x 16 MiB" "sum(nfsgate_nfs_read_bytes_total{export=\"research\"}) == $rounds * 16 * 2^20"
nonzero "client bytes (127.0.0.1)" 'sum(nfsgate_nfs_client_write_bytes_total{client="127.0.0.1"})'
nonzero "write rate (bytes/s)" 'sum(rate(nfsgate_nfs_write_bytes_total[1m]))'
nonzero "READ latency histogram count" 'sum(nfsgate_nfs_request_duration_seconds_count{proc="READ"})'
nonzero "MOUNT calls (RPC layer)" 'sum(nfsgate_rpc_requests_total{program="mount"})'
nonzero "connections seen during the run" 'max_over_time(nfsgate_rpc_connections[5m])'
nonzero "kernel mount served by a receive thread" 'max_over_time(nfsgate_rpc_receive_threads[5m])'
nonzero "object-store puts" 'sum(nfsgate_object_store_requests_total{operation="put"})'
nonzero "object-store put bytes" 'sum(nfsgate_object_store_bytes_total{operation="put"})'
nonzero "cache hits" 'sum(nfsgate_cache_hits_total)'
nonzero "cache used bytes" 'sum(nfsgate_cache_used_bytes)'
nonzero "metadata commits" 'sum(nfsgate_metadata_commits_total)'
nonzero "metadata keys" 'sum(nfsgate_metadata_keys)'
nonzero "QoS read cap in force (10 GiB/s)" 'nfsgate_qos_limit_bytes_per_second{export="research",direction="read"} == 10 * 2^30'
nonzero "slow calls counted" 'sum(nfsgate_nfs_slow_requests_total)'
nonzero "process CPU seconds" 'process_cpu_seconds_total{job="nfsgate"}'
nonzero "GC allocated bytes" 'dotnet_gc_allocated_bytes_total{job="nfsgate"}'
nonzero "thread-pool threads" 'dotnet_threadpool_threads{job="nfsgate"}'
# Every alert rule was evaluated against the live series without an error (a typo in a metric name still evaluates
# fine; the rule unit tests above catch those).
check "every alert rule evaluates with health ok" bash -c '
    curl -sf "http://127.0.0.1:$1/api/v1/rules" | jq -e "[.data.groups[].rules[]] | length > 10 and all(.health == \"ok\")"' _ "$PROM"
firing=$(query 'ALERTS{alertstate="firing"}' | jq -r '[.[].metric.alertname] | join(",")')
if [ -z "$firing" ]; then ok "no alert fires on a healthy run"; else bad "alerts firing on a healthy run: $firing"; fi

# --- every dashboard expression returns data ----------------------------------------------------------------------
# Grafana's variables, as Grafana would expand them: All exports, and a rate window that holds 4+ scrapes.
empty=0
while IFS= read -r expr; do
    q=${expr//\$__rate_interval/1m}
    q=${q//\$export/.+}
    n=$(query "$q" | jq 'length')
    if [ "${n:-0}" -gt 0 ] 2>/dev/null; then :; else empty=$((empty + 1)); echo "    no data: $expr"; fi
done <"$W/exprs.txt"
if [ "$empty" -eq 0 ]; then ok "all $n_exprs dashboard expressions return data"; else bad "$empty of $n_exprs dashboard expressions return no data"; fi

# --- logs: slow operations with request context; log level changed at runtime ---------------------------------------
logfile=$(ls "$W"/logs/nfsgate*.log 2>/dev/null | head -n 1)
check "slow-operation log lines carry Xid, Client and Export" \
    bash -c 'grep "\"SourceContext\":\"NfsGate.SlowOperations\"" "$1" | head -n 1 | jq -e ".Xid and .Client == \"127.0.0.1\" and .Export == \"research\" and .Proc and .ElapsedMs"' _ "$logfile"
check "PUT /admin/log-level debug, then GET says debug" bash -c '
    curl -sf -X PUT -H "Content-Type: application/json" -d "{\"level\":\"debug\"}" "http://127.0.0.1:$1/admin/log-level" >/dev/null &&
    curl -sf "http://127.0.0.1:$1/admin/log-level" | jq -e ".level == \"debug\""' _ "$HTTP"
check "a debug event is written after the change" bash -c '
    nfs-ls "nfs://127.0.0.1/?version=3&nfsport=$2&mountport=$2" >/dev/null 2>&1; sleep 1
    grep -q "\"@l\":\"Debug\"" "$1"' _ "$logfile" "$PORT"
check "GET /healthz and /readyz" bash -c 'curl -sf "http://127.0.0.1:$1/healthz" && curl -sf "http://127.0.0.1:$1/readyz"' _ "$HTTP"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
