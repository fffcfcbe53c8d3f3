# Sourced by .ci/run: a throwaway Postgres server for the tests that run
# on both databases (internal/pgtest). It is Debian's postgresql, initdb'd
# into a temporary directory and started as an unprivileged user on a
# free port, with its socket in that directory too; stop_postgres ends it.

pg_dir=""
pg_as=()
pg_bin=""

# pg_bindir prints the directory of initdb and pg_ctl: Debian keeps them
# in /usr/lib/postgresql/VERSION/bin, off PATH; other installs put them
# on PATH (such as /usr/local/bin).
pg_bindir() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -n "$d" ] && [ -x "$d/initdb" ]; then echo "$d"; return; fi
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(command -v initdb)"
  fi
}

start_postgres() {
  pg_bin=$(pg_bindir)
  if [ -z "$pg_bin" ]; then
    echo "== installing postgresql"
    local sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql >/dev/null
    pg_bin=$(pg_bindir)
    [ -n "$pg_bin" ] || { echo "postgresql installed, but no initdb found"; exit 1; }
  fi
  pg_dir=$(mktemp -d)
  if [ "$(id -u)" = 0 ]; then
    # Postgres refuses to run as root.
    id -u stagegate-ci >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin stagegate-ci
    chown stagegate-ci "$pg_dir"
    pg_as=(runuser -u stagegate-ci --)
  fi
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  # From the temporary directory: the unprivileged user may not be able
  # to read the checkout, and Postgres's tools look at their cwd.
  cd "$pg_dir"
  "${pg_as[@]}" "$pg_bin/initdb" -D "$pg_dir/data" -U postgres -A trust --no-sync >"$pg_dir/initdb.log" 2>&1 ||
    { cat "$pg_dir/initdb.log"; echo "initdb failed"; exit 1; }
  # fsync off: the data is thrown away. Each test opens a pool of its own.
  "${pg_as[@]}" "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" -w -t 60 \
    -o "-p $port -k $pg_dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=500" start >/dev/null ||
    { cat "$pg_dir/server.log"; echo "postgres did not start"; exit 1; }
  cd - >/dev/null
  export STAGEGATE_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
  export STAGEGATE_REQUIRE_POSTGRES=1
}

stop_postgres() {
  [ -n "$pg_dir" ] || return 0
  "${pg_as[@]}" "$pg_bin/pg_ctl" -D "$pg_dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$pg_dir"
  pg_dir=""
}
