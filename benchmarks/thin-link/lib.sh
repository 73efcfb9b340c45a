# Sourced by the thin-link scripts. thin_link_start DIRECT_PORT THIN_PORT DELAY_MS MBPS: a private
# S3Proxy under $B/s3 on DIRECT_PORT, rateproxy.py in front of it on THIN_PORT, rclone configurations
# for both ($B/direct.conf, $B/thin.conf, remote "s3") and an s3fs password file; stopped at exit.
# Needs HERE (this folder) and B; sets EP_DIRECT and EP.
thin_link_start() {
  local direct=$1 thin=$2 delay=$3 mbps=$4 jar
  EP_DIRECT=http://127.0.0.1:$direct; EP=http://127.0.0.1:$thin
  export AWS_ACCESS_KEY_ID=benchkey AWS_SECRET_ACCESS_KEY=benchsecret AWS_REGION=us-east-1; unset AWS_CA_BUNDLE
  jar=$(ls ~/.m2/repository/org/gaul/s3proxy/*/s3proxy-*-jar-with-dependencies.jar 2>/dev/null | tail -1)
  [ -n "$jar" ] || { echo "no S3Proxy jar in ~/.m2: run ../shared/bench/compare.sh once first" >&2; exit 2; }
  mkdir -p "$B/logs"; rm -rf "$B/s3" && mkdir -p "$B/s3"
  printf 's3proxy.endpoint=%s\ns3proxy.authorization=none\njclouds.provider=filesystem-nio2\njclouds.identity=benchkey\njclouds.credential=benchsecret\njclouds.filesystem.basedir=%s/s3\n' \
    "$EP_DIRECT" "$B" > "$B/s3proxy.conf"
  java -jar "$jar" --properties "$B/s3proxy.conf" > "$B/logs/s3proxy.log" 2>&1 & S3PID=$!
  python3 "$HERE/rateproxy.py" "$thin" "$direct" "$delay" "$mbps" & RPID=$!
  trap 'for m in "$B"/mnt-*; do fusermount3 -u "$m" 2>/dev/null; done; kill $S3PID $RPID 2>/dev/null' EXIT
  for i in $(seq 1 60); do curl -s -o /dev/null "$EP_DIRECT/" && break; sleep 0.5; done
  local conf='[s3]\ntype = s3\nprovider = Other\naccess_key_id = benchkey\nsecret_access_key = benchsecret\nendpoint = %s\nforce_path_style = true\nregion = us-east-1\n'
  printf "$conf" "$EP_DIRECT" > "$B/direct.conf"; printf "$conf" "$EP" > "$B/thin.conf"
  echo benchkey:benchsecret > "$B/s3fs.passwd"; chmod 600 "$B/s3fs.passwd"
}

# thin_link_mount SYSTEM BUCKET MNT CACHE: mounts as cold-tree.sh's SYSTEM says (bd, bd=PATH, rclone,
# s3fs) through the thin link and waits for the mount; returns 1 for an unknown system.
thin_link_mount() {
  local s=$1 bucket=$2 mnt=$3 cache=$4 bin
  case $s in
    bd|bd=*) bin=$REPO/bin/bucketdrive; [ "$s" = bd ] || bin=${s#bd=}
      "$bin" mount "s3://$bucket" "$mnt" --endpoint "$EP" --path-style --cache-dir "$cache" >> "$B/logs/bd.log" 2>&1 & ;;
    rclone) rclone --config "$B/thin.conf" mount "s3:$bucket" "$mnt" --vfs-cache-mode full --cache-dir "$cache" --daemon --log-file "$B/logs/rclone.log" ;;
    s3fs) s3fs "$bucket" "$mnt" -o passwd_file="$B/s3fs.passwd" -o url="$EP" -o use_path_request_style -o use_cache="$cache" ;;
    *) echo "unknown system $s" >&2; return 1 ;;
  esac
  for i in $(seq 1 120); do mountpoint -q "$mnt" && break; sleep 0.5; done
}

# thin_link_unmount MNT
thin_link_unmount() {
  fusermount3 -u "$1"; for i in $(seq 1 60); do mountpoint -q "$1" || break; sleep 0.5; done; sleep 1
}
