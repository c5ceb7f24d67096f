#!/usr/bin/env bash
# Starts the local PostgreSQL and MariaDB servers the tests talk to, if they are down.
set -euo pipefail

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
my_up() { mariadb-admin -h 127.0.0.1 -P 3306 -uroot ping >/dev/null 2>&1; }

if ! command -v pg_ctlcluster >/dev/null 2>&1 || ! [ -x /usr/sbin/mariadbd ]; then
  echo "==> installing PostgreSQL and MariaDB servers"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql mariadb-server >/dev/null
  # Local test servers: trust connections from this machine only.
  for hba in /etc/postgresql/*/main/pg_hba.conf; do
    grep -q 'tidemark-tests' "$hba" || sed -i '1i host all all 127.0.0.1/32 trust # tidemark-tests\nhost all all ::1/128 trust # tidemark-tests' "$hba"
  done
fi

if ! pg_up; then
  echo "==> starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start || true
fi
if ! my_up; then
  echo "==> starting MariaDB"
  mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld 2>/dev/null || true
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --user=mysql || true
fi

for _ in $(seq 1 60); do
  if pg_up && my_up; then break; fi
  sleep 0.5
done
pg_up || { echo "PostgreSQL is not answering on 127.0.0.1:5432" >&2; exit 1; }
my_up || { echo "MariaDB is not answering on 127.0.0.1:3306" >&2; exit 1; }
echo "==> PostgreSQL on 127.0.0.1:5432 and MariaDB on 127.0.0.1:3306 are up"
