#!/usr/bin/env bash
# A local single-node Apache Kafka broker (KRaft, broker+controller in one JVM)
# for development, tests and CI, without Docker and without the Kafka tarball:
# the jars come from Maven Central through `mvn`, which is the one registry we
# can count on reaching.
#
#   bash scripts/kafka.sh start|stop|reset|status|fetch
#   bash scripts/kafka.sh tool CLASS [ARGS...]   (a class from the broker's jars)
#
# Environment:
#   KAFKA_PORT             client port (default 9092); the controller uses
#                          KAFKA_CONTROLLER_PORT (default KAFKA_PORT+1)
#   KAFKA_DATA_DIR         data, config, pid and log (default
#                          ${XDG_DATA_HOME:-$HOME/.local/share}/trailhouse/kafka);
#                          survives stop/start, wiped by `reset`
#   TRAILHOUSE_CACHE       cache root (default ${XDG_CACHE_HOME:-$HOME/.cache}/trailhouse);
#                          jars go to $TRAILHOUSE_CACHE/kafka-<version>/jars
#   KAFKA_VERSION          default 3.9.2: the newest 3.x. kafkajs 2.2.4 predates
#                          Kafka 4.0, which removed the old protocol versions it speaks.
#   KAFKA_HEAP_OPTS        default -Xmx512m -Xms128m
#   KAFKA_START_TIMEOUT    seconds to wait for the broker (default 180)
set -euo pipefail

KAFKA_VERSION="${KAFKA_VERSION:-3.9.2}"
SCALA_VERSION=2.13
PORT="${KAFKA_PORT:-9092}"
CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-$((PORT + 1))}"
CACHE_ROOT="${TRAILHOUSE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/trailhouse}"
CACHE_DIR="$CACHE_ROOT/kafka-$KAFKA_VERSION"
JARS="$CACHE_DIR/jars"
DATA_DIR="${KAFKA_DATA_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/trailhouse/kafka}"
PID_FILE="$DATA_DIR/kafka.pid"
LOG_FILE="$DATA_DIR/kafka.log"
START_TIMEOUT="${KAFKA_START_TIMEOUT:-180}"
HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xmx512m -Xms128m}"

say() { printf 'kafka: %s\n' "$*"; }
die() { printf 'kafka: error: %s\n' "$*" >&2; exit 1; }

need() {
  command -v "$1" >/dev/null 2>&1 || die "$1 not found on PATH ($2)"
}

# The running broker's pid, or nothing. A stale pid file (crash, reboot, pid
# reused by something else) does not count: the process must be our java.
running_pid() {
  [[ -f "$PID_FILE" ]] || return 0
  local pid
  pid="$(cat "$PID_FILE" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 0
  if kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'kafka\.Kafka'; then
    echo "$pid"
  fi
}

port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Fetch the broker's jars (and only them) with Maven into the cache, once.
fetch() {
  # kafka-tools (the console producer/consumer, used as interop peers in
  # tests) joined the set later: a cache without it is fetched again.
  [[ -f "$CACHE_DIR/.complete" && -f "$JARS/kafka-tools-$KAFKA_VERSION.jar" ]] && return 0
  need java "install a Java 17+ runtime, e.g. apt-get install -y openjdk-17-jre-headless"
  need mvn "install Maven, e.g. apt-get install -y maven"
  say "fetching Apache Kafka $KAFKA_VERSION jars from Maven Central into $CACHE_DIR (first run only)"
  mkdir -p "$CACHE_DIR"
  local work="$CACHE_DIR/fetch.$$"
  rm -rf "$work"
  mkdir -p "$work"
  # kafka_2.13 pulls in server, metadata, raft, storage, group/transaction
  # coordinators and clients; the storage tool lives in it too. kafka-tools
  # has the console producer and consumer. The logging
  # binding is optional upstream, so name it: without it the broker logs nothing.
  cat >"$work/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.trailhouse</groupId>
  <artifactId>kafka-runtime</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_$SCALA_VERSION</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-reload4j</artifactId><version>1.7.36</version></dependency>
  </dependencies>
</project>
EOF
  if ! mvn -q -B -U -Dstyle.color=never -f "$work/pom.xml" \
      dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$work/jars" </dev/null >"$work/mvn.log" 2>&1; then
    sed 's/\x1b\[[0-9;]*m//g' "$work/mvn.log" | tail -n 40 >&2
    rm -rf "$work"
    die "mvn could not fetch org.apache.kafka:kafka_$SCALA_VERSION:$KAFKA_VERSION (is Maven Central reachable?)"
  fi
  [[ -f "$work/jars/kafka_$SCALA_VERSION-$KAFKA_VERSION.jar" ]] || die "kafka jar missing after fetch"
  rm -rf "$JARS"
  mv "$work/jars" "$JARS"
  cp "$work/pom.xml" "$CACHE_DIR/pom.xml"
  rm -rf "$work"
  touch "$CACHE_DIR/.complete"
  say "fetched $(ls "$JARS" | wc -l) jars"
}

write_config() {
  mkdir -p "$DATA_DIR/logs"
  # Rewritten on each start so port overrides apply; the data in logs/ stays.
  cat >"$DATA_DIR/server.properties" <<EOF
# Written by scripts/kafka.sh; edits are overwritten on start.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$DATA_DIR/logs
auto.create.topics.enable=true
num.partitions=4
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
group.initial.rebalance.delay.ms=0
# Tests create many short-lived topics; let them be deleted.
delete.topic.enable=true
# Small disk footprint for a dev broker.
log.retention.hours=24
log.segment.bytes=67108864
EOF
  cat >"$DATA_DIR/log4j.properties" <<EOF
log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka=INFO
log4j.logger.org.apache.kafka=INFO
log4j.logger.kafka.request.logger=WARN
log4j.logger.state.change.logger=WARN
EOF
}

java_run() {
  # shellcheck disable=SC2086
  java $HEAP_OPTS -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j.configuration="file:$DATA_DIR/log4j.properties" \
    -cp "$JARS/*" "$@"
}

format_storage() {
  [[ -f "$DATA_DIR/logs/meta.properties" ]] && return 0
  local cluster_id
  if [[ -s "$DATA_DIR/cluster.id" ]]; then
    cluster_id="$(cat "$DATA_DIR/cluster.id")"
  else
    cluster_id="$(java_run kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n1)"
    echo "$cluster_id" >"$DATA_DIR/cluster.id"
  fi
  say "formatting KRaft storage in $DATA_DIR/logs (cluster $cluster_id)"
  java_run kafka.tools.StorageTool format -t "$cluster_id" -c "$DATA_DIR/server.properties" \
    >>"$DATA_DIR/format.log" 2>&1 || { tail -n 20 "$DATA_DIR/format.log" >&2; die "storage format failed"; }
}

start() {
  local pid
  pid="$(running_pid)"
  if [[ -n "$pid" ]]; then
    say "already running (pid $pid) on 127.0.0.1:$PORT"
    return 0
  fi
  if port_open "$PORT"; then
    die "127.0.0.1:$PORT is in use by another process; set KAFKA_PORT or stop it"
  fi
  need java "install a Java 17+ runtime, e.g. apt-get install -y openjdk-17-jre-headless"
  fetch
  write_config
  format_storage
  [[ -f "$LOG_FILE" ]] && mv -f "$LOG_FILE" "$LOG_FILE.1"
  # Every partition is loaded before the broker answers: say so when there are
  # many (tests delete their topics, but a killed run leaves them behind).
  local partitions
  partitions="$(find "$DATA_DIR/logs" -mindepth 1 -maxdepth 1 -type d -name '*-[0-9]*' 2>/dev/null | wc -l)"
  if ((partitions > 2000)); then
    say "warning: $partitions partitions to load in $DATA_DIR/logs; startup will be slow (\`bash scripts/kafka.sh reset\` wipes them)"
  fi
  # setsid: the broker outlives the shell (and the test runner) that started it.
  setsid java $HEAP_OPTS -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j.configuration="file:$DATA_DIR/log4j.properties" \
    -cp "$JARS/*" kafka.Kafka "$DATA_DIR/server.properties" \
    </dev/null >"$LOG_FILE" 2>&1 9>&- &
  pid=$!
  echo "$pid" >"$PID_FILE"
  say "starting (pid $pid), log $LOG_FILE"
  local t0=$SECONDS deadline=$((SECONDS + START_TIMEOUT))
  # Ready = the client port answers and the server says it started (the port
  # opens a moment before the broker has caught up with its metadata log).
  until port_open "$PORT" && grep -q 'Kafka Server started' "$LOG_FILE" 2>/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$PID_FILE"
      tail -n 30 "$LOG_FILE" >&2 || true
      die "broker exited during startup (log above, full log $LOG_FILE)"
    fi
    if ((SECONDS >= deadline)); then
      tail -n 30 "$LOG_FILE" >&2 || true
      die "broker did not answer on 127.0.0.1:$PORT within ${START_TIMEOUT}s (still running as pid $pid; log $LOG_FILE)"
    fi
    sleep 0.5
  done
  say "started on 127.0.0.1:$PORT in $((SECONDS - t0))s"
}

stop() {
  local pid
  pid="$(running_pid)"
  if [[ -z "$pid" ]]; then
    rm -f "$PID_FILE"
    say "not running"
    return 0
  fi
  say "stopping (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  local i
  for ((i = 0; i < 60; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  if kill -0 "$pid" 2>/dev/null; then
    say "did not stop within 30s, killing"
    kill -KILL "$pid" 2>/dev/null || true
    sleep 0.5
  fi
  rm -f "$PID_FILE"
  say "stopped"
}

status() {
  local pid
  pid="$(running_pid)"
  if [[ -n "$pid" ]]; then
    say "running (pid $pid) on 127.0.0.1:$PORT, data $DATA_DIR"
  else
    say "not running, data $DATA_DIR"
    return 3
  fi
}

# Serialise start/stop/reset: test files in parallel processes all call start.
with_lock() {
  mkdir -p "$DATA_DIR"
  exec 9>"$DATA_DIR.lock"
  flock -w "$((START_TIMEOUT + 600))" 9 || die "timed out waiting for the lock $DATA_DIR.lock"
  "$@"
}

case "${1:-}" in
  start) with_lock start ;;
  stop) with_lock stop ;;
  reset)
    with_lock stop
    rm -rf "$DATA_DIR"
    say "wiped $DATA_DIR"
    ;;
  status) status ;;
  fetch) with_lock fetch ;;
  tool)
    # A class from the broker's jars, e.g. Kafka's own console producer and
    # consumer as interop peers in tests:
    #   bash scripts/kafka.sh tool kafka.tools.ConsoleConsumer --bootstrap-server ... --topic ...
    shift
    [[ $# -gt 0 ]] || die "usage: $0 tool CLASS [ARGS...]"
    need java "install a Java 17+ runtime, e.g. apt-get install -y openjdk-17-jre-headless"
    with_lock fetch >&2
    printf '%s\n' 'log4j.rootLogger=WARN, stderr' 'log4j.appender.stderr=org.apache.log4j.ConsoleAppender' \
      'log4j.appender.stderr.Target=System.err' 'log4j.appender.stderr.layout=org.apache.log4j.PatternLayout' \
      'log4j.appender.stderr.layout.ConversionPattern=[%d] %p %m (%c)%n' >"$CACHE_DIR/tool-log4j.properties"
    # shellcheck disable=SC2086
    exec java ${KAFKA_TOOL_HEAP_OPTS:--Xmx256m} -Djava.awt.headless=true \
      -Dlog4j.configuration="file:$CACHE_DIR/tool-log4j.properties" -cp "$JARS/*" "$@"
    ;;
  *)
    echo "usage: $0 start|stop|reset|status|fetch|tool CLASS [ARGS...]" >&2
    exit 2
    ;;
esac
