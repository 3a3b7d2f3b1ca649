#!/usr/bin/env bash
# A real single-node Apache Kafka broker (KRaft, no ZooKeeper) on loopback, without Docker:
# the broker's jars come from Maven Central through Maven, once, into a cache folder that
# every later start reuses. Used by .ci/run, by the Kafka test suites and by developers.
#
#   deploy/local/kafka.sh start    fetch the jars if needed, format the log folder once, start, wait until ready
#   deploy/local/kafka.sh stop     stop the broker (its log folder and topics are kept)
#   deploy/local/kafka.sh status   running or not, and where
#   deploy/local/kafka.sh fetch    only resolve the jars
#   deploy/local/kafka.sh reset    stop and delete the log folder (all topics)
#
# Every command is idempotent: start on a running broker and stop on a stopped one succeed.
# Settings (environment):
#   KAFKA_PORT         client port on 127.0.0.1 (default 9092); the controller listens on KAFKA_PORT+1
#   KAFKA_VERSION      org.apache.kafka:kafka_2.13 version (default 3.9.1)
#   CX_KAFKA_CACHE     where the jars are kept (default ~/.cache/cx-platform/kafka-$KAFKA_VERSION)
#   CX_KAFKA_DIR       this broker's folder: log, pid, config (default <repo>/.cx-kafka/$KAFKA_PORT)
#   KAFKA_HEAP         JVM heap (default 512m)
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
port=${KAFKA_PORT:-9092}
controller_port=$((port + 1))
version=${KAFKA_VERSION:-3.9.1}
cache=${CX_KAFKA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cx-platform/kafka-$version}
dir=${CX_KAFKA_DIR:-$repo/.cx-kafka/$port}
heap=${KAFKA_HEAP:-512m}
pid_file=$dir/kafka.pid
log_file=$dir/kafka.log

say() { printf 'kafka: %s\n' "$*"; }

fetch() {
  if [ -f "$cache/.complete" ]; then return 0; fi
  command -v mvn >/dev/null || { say "Maven (mvn) is needed to fetch the broker's jars"; exit 1; }
  command -v java >/dev/null || { say "Java 17 or later is needed to run the broker"; exit 1; }
  say "resolving org.apache.kafka:kafka_2.13:$version with Maven into $cache"
  mkdir -p "$cache"
  local work
  work=$(mktemp -d)
  cat >"$work/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.cx</groupId><artifactId>kafka-broker</artifactId><version>1</version><packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$version</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-reload4j</artifactId><version>1.7.36</version></dependency>
  </dependencies>
</project>
EOF
  mvn -q -B -f "$work/pom.xml" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$cache/libs" >"$work/mvn.log" 2>&1 || {
      cat "$work/mvn.log"; say "Maven could not resolve the broker"; exit 1; }
  rm -rf "$work"
  touch "$cache/.complete"
}

running_pid() {
  [ -f "$pid_file" ] || return 1
  local pid
  pid=$(cat "$pid_file")
  if kill -0 "$pid" 2>/dev/null; then echo "$pid"; return 0; fi
  return 1
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

write_config() {
  mkdir -p "$dir/data"
  cat >"$dir/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$dir/data
num.partitions=${KAFKA_PARTITIONS:-6}
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=6
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
log.retention.hours=24
log.segment.bytes=67108864
EOF
  cat >"$dir/log4j.properties" <<'EOF'
log4j.rootLogger=WARN, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.server.BrokerServer=INFO
EOF
}

start() {
  if pid=$(running_pid); then say "already running (pid $pid) on 127.0.0.1:$port"; return 0; fi
  if port_open "$port"; then say "port $port is taken by another process"; exit 1; fi
  fetch
  write_config
  local cp="$cache/libs/*"
  if [ ! -f "$dir/data/meta.properties" ]; then
    java -cp "$cp" -Dlog4j.configuration="file:$dir/log4j.properties" kafka.tools.StorageTool format \
      -t "$(java -cp "$cp" kafka.tools.StorageTool random-uuid 2>/dev/null)" -c "$dir/server.properties" >/dev/null
  fi
  # A fresh log each start, so readiness is read from this start's lines only.
  [ -f "$log_file" ] && mv "$log_file" "$log_file.previous"
  nohup java -Xms128m -Xmx"$heap" -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
    -Dlog4j.configuration="file:$dir/log4j.properties" -cp "$cp" kafka.Kafka "$dir/server.properties" \
    >>"$log_file" 2>&1 </dev/null &
  echo $! >"$pid_file"
  for _ in $(seq 1 120); do
    if ! running_pid >/dev/null; then tail -n 30 "$log_file"; say "the broker exited while starting"; exit 1; fi
    if grep -q "Transition from STARTING to STARTED" "$log_file" 2>/dev/null && port_open "$port"; then
      say "ready on 127.0.0.1:$port (pid $(cat "$pid_file"), log $log_file)"
      return 0
    fi
    sleep 0.5
  done
  tail -n 30 "$log_file"; say "not ready after 60 s"; exit 1
}

stop() {
  local pid
  if ! pid=$(running_pid); then say "not running on 127.0.0.1:$port"; rm -f "$pid_file"; return 0; fi
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  if kill -0 "$pid" 2>/dev/null; then say "still running after 30 s, killing"; kill -9 "$pid" 2>/dev/null || true; fi
  rm -f "$pid_file"
  say "stopped (127.0.0.1:$port)"
}

status() {
  if pid=$(running_pid); then say "running (pid $pid) on 127.0.0.1:$port, folder $dir"; else say "not running on 127.0.0.1:$port"; return 3; fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  fetch) fetch; say "jars in $cache/libs" ;;
  reset) stop; rm -rf "$dir"; say "deleted $dir" ;;
  *) echo "usage: $0 start|stop|status|fetch|reset" >&2; exit 2 ;;
esac
