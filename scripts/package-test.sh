#!/usr/bin/env bash
# shellcheck disable=SC2016,SC2012 # single quotes expand later, on purpose; ls of a few known names
# `make package-test`: install the Debian package (`make deb`) into a clean
# Debian 12 root and prove what the package promises: the binary, the user,
# the config files' owner and mode, a unit that is enabled but not started,
# a start that fails clearly (and stops retrying) while unconfigured, a
# configured service that answers /readyz as its own user, an upgrade that
# keeps edited conffiles, `remove` keeping the data and `purge` deleting it.
#
# Two ways to run the service, chosen at start:
#   systemd  the root boots under systemd-nspawn (private network): the real
#            unit runs under the real systemd, hardening and all, and a
#            reboot proves the enabled unit starts at boot.
#   chroot   when systemd-nspawn cannot boot here (or PUENTE_PACKAGE_TEST_MODE
#            =chroot): the unit's User=, Group=, Environment=,
#            EnvironmentFile=, StateDirectory=, WorkingDirectory=, UMask=,
#            ExecStartPre= and ExecStart= are read from the installed unit
#            file and run with setpriv inside a chroot, in a private network
#            namespace.
#
# Needs root. The debootstrapped root is cached as a tarball under
# <target>/package-test/ (rebuilt when missing; delete it to refresh); each
# run unpacks a fresh copy. Not part of `make test`. Prints one PASS or FAIL
# line per check and exits non-zero on any failure.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
target=${CARGO_TARGET_DIR:-$repo/target}
case $target in /*) ;; *) target=$repo/$target ;; esac
suite=bookworm
arch=$(dpkg --print-architecture)
mirror=${PUENTE_DEBIAN_MIRROR:-http://deb.debian.org/debian}
work=$target/package-test
cache=$work/$suite-$arch.tar
root=$work/root
mode=${PUENTE_PACKAGE_TEST_MODE:-auto}
secret="whsec_$(head -c32 /dev/urandom | base64)"
admin_token=$(head -c24 /dev/urandom | od -An -tx1 | tr -d ' \n')
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export LC_ALL=C.UTF-8

version=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$repo/Cargo.toml" | head -n1)
deb=$target/debian/puente_${version}-1_${arch}.deb

failures=0
passes=0
started=$SECONDS
step_started=$SECONDS

log() { printf '%s\n' "$*" | sed 's/^/    /'; }
pass() {
    passes=$((passes + 1))
    printf 'PASS %-62s %3ss\n' "$1" $((SECONDS - step_started))
    step_started=$SECONDS
}
fail() {
    failures=$((failures + 1))
    printf 'FAIL %-62s %3ss\n' "$1" $((SECONDS - step_started))
    shift
    for line in "$@"; do log "$line"; done
    step_started=$SECONDS
}
# check NAME COMMAND...: PASS when the command succeeds.
check() {
    local name=$1 output
    shift
    if output=$("$@" 2>&1); then
        pass "$name"
    else
        fail "$name" "${output:-(no output)}"
    fi
}
die() {
    fail "$1" "${@:2}"
    exit 1
}

[ "$(id -u)" = 0 ] || { echo "package-test: run as root (debootstrap, chroot, mounts)" >&2; exit 1; }
[ -f "$deb" ] || { echo "package-test: $deb is missing; run \`make deb\` first" >&2; exit 1; }

# --- the root ---------------------------------------------------------------

# Everything mounted under the root, deepest first.
mounts_under_root() {
    awk -v r="$root" '$5 == r || index($5, r "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r
}

unmount_root() {
    local mount
    for mount in $(mounts_under_root); do
        umount -l "$mount" 2>/dev/null || true
    done
}

remove_root() {
    unmount_root
    if [ -n "$(mounts_under_root)" ]; then
        echo "package-test: still mounted under $root; not deleting it" >&2
        exit 1
    fi
    rm -rf --one-file-system "$root"
}

nspawn_pid=
netns_pid=
service_pid=
cleanup() {
    local status=$?
    if [ -n "$service_pid" ] && kill -0 "$service_pid" 2>/dev/null; then
        kill -TERM "$service_pid" 2>/dev/null || true
    fi
    if [ -n "$nspawn_pid" ] && kill -0 "$nspawn_pid" 2>/dev/null; then
        kill -TERM "$nspawn_pid" 2>/dev/null || true # nspawn: orderly poweroff
        for _ in $(seq 60); do kill -0 "$nspawn_pid" 2>/dev/null || break; sleep 0.5; done
        kill -KILL "$nspawn_pid" 2>/dev/null || true
    fi
    if [ -n "$netns_pid" ]; then kill "$netns_pid" 2>/dev/null || true; fi
    unmount_root
    rmdir /run/systemd/nspawn/propagate/puente-pkgtest 2>/dev/null || true
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "package-test: $(basename "$deb") into a clean Debian 12 ($suite, $arch) root"
if ! command -v debootstrap >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null \
        || die "install debootstrap" "apt-get install debootstrap failed"
fi
mkdir -p "$work"
remove_root
: >"$work/console.log"
: >"$work/service.log"
if [ ! -f "$cache" ]; then
    log "debootstrap $suite from $mirror (cached as $cache afterwards)"
    if ! debootstrap --arch="$arch" "$suite" "$root" "$mirror" >"$work/debootstrap.log" 2>&1; then
        die "debootstrap $suite" "see $work/debootstrap.log" "$(tail -n5 "$work/debootstrap.log")"
    fi
    tar --numeric-owner --xattrs -C "$root" -cf "$cache.part" . && mv "$cache.part" "$cache"
    pass "debootstrap a clean $suite root (now cached)"
else
    mkdir -p "$root"
    tar --numeric-owner --xattrs -C "$root" -xf "$cache"
    pass "unpack the cached clean $suite root"
fi
mkdir -p "$root/srv/package-test"
cp "$deb" "$root/srv/package-test/"
cp "$repo/fixtures/envelopes/ClientAdd.json" "$root/srv/package-test/"

# --- how to run things in it ------------------------------------------------

container_env=(env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
    LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive)
leader=

boot_container() {
    # nspawn needs the unified cgroup hierarchy: where the host has the
    # legacy or hybrid one, mount cgroup2 in a mount namespace of its own.
    local boot='
        if [ "$(stat -fc %T /sys/fs/cgroup)" != cgroup2fs ]; then
            umount -R /sys/fs/cgroup && mount -t cgroup2 cgroup2 /sys/fs/cgroup || exit 97
        fi
        SYSTEMD_NSPAWN_USE_CGNS=0 exec systemd-nspawn --quiet -D "$1" \
            --machine=puente-pkgtest --register=no --keep-unit \
            --private-network --boot --console=pipe'
    unshare --mount --propagation private sh -c "$boot" sh "$root" \
        </dev/null >>"$work/console.log" 2>&1 &
    nspawn_pid=$!
    leader=
    local state=
    for _ in $(seq 120); do
        kill -0 "$nspawn_pid" 2>/dev/null || return 1
        if [ -z "$leader" ]; then
            leader=$(pgrep -P "$nspawn_pid" -x systemd | head -n1 || true)
        fi
        if [ -n "$leader" ]; then
            state=$(nsenter -t "$leader" -a "${container_env[@]}" systemctl is-system-running 2>/dev/null || true)
            case $state in running | degraded) return 0 ;; esac
        fi
        sleep 0.5
    done
    return 1
}

poweroff_container() {
    nsenter -t "$leader" -a "${container_env[@]}" systemctl poweroff >/dev/null 2>&1 || true
    for _ in $(seq 60); do kill -0 "$nspawn_pid" 2>/dev/null || break; sleep 0.5; done
    if kill -0 "$nspawn_pid" 2>/dev/null; then return 1; fi
    wait "$nspawn_pid" 2>/dev/null || true
    nspawn_pid=
}

# in_root CMD...: run a command inside the root (the container, or chroot).
# in_root_net CMD...: the same, with the host's network (apt-get).
# in_net CMD...: a host command in the root's network namespace (curl).
if [ "$mode" != chroot ]; then
    if command -v systemd-nspawn >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq systemd-container >/dev/null 2>&1; then
        if boot_container; then
            mode=systemd
        elif [ "$mode" = systemd ]; then
            die "boot the root under systemd-nspawn" "$(tail -n5 "$work/console.log")"
        else
            log "systemd-nspawn cannot boot the root here ($(tail -n1 "$work/console.log" 2>/dev/null)); falling back to chroot"
            kill "$nspawn_pid" 2>/dev/null || true
            wait "$nspawn_pid" 2>/dev/null || true
            nspawn_pid=
        fi
    fi
fi
if [ "$mode" = systemd ]; then
    pass "boot the root under systemd-nspawn (real systemd, private network)"
    in_root() { nsenter -t "$leader" -a "${container_env[@]}" "$@"; }
    in_root_net() { nsenter -t "$leader" -m -u -i -p -r -w "${container_env[@]}" "$@"; }
    in_net() { nsenter -t "$leader" -n "$@"; }
else
    mode=chroot
    mount -t proc proc "$root/proc"
    mount --bind /dev "$root/dev"
    # A private network namespace, held by a sleeping process, so the
    # service listens on its default 127.0.0.1:8080 without meeting the host's.
    unshare --net sh -c 'ip link set lo up 2>/dev/null || true; exec sleep infinity' &
    netns_pid=$!
    sleep 0.2
    in_root() { chroot "$root" "${container_env[@]}" "$@"; }
    in_root_net() { in_root "$@"; }
    in_net() { nsenter -t "$netns_pid" -n "$@"; }
    pass "chroot with /proc, /dev and a private network namespace"
fi

# --- the unit, as systemd would run it (chroot mode) -------------------------

unit=/usr/lib/systemd/system/puente.service
unit_values() { # unit_values KEY: every value of KEY= in the installed unit
    sed -n "s/^$1=//p" "$root$unit"
}

# A systemd EnvironmentFile: KEY=VALUE lines, # and ; comments, optional quotes.
read_environment_file() {
    local line key value
    while IFS= read -r line || [ -n "$line" ]; do
        line=${line#"${line%%[![:space:]]*}"}
        case $line in '' | '#'* | ';'*) continue ;; esac
        key=${line%%=*}
        key=${key%"${key##*[![:space:]]}"}
        value=${line#*=}
        value=${value#"${value%%[![:space:]]*}"}
        case $value in \"*\") value=${value:1:-1} ;; \'*\') value=${value:1:-1} ;; esac
        printf '%s=%s\n' "$key" "$value"
    done <"$1"
}

unit_environment=()
load_unit_environment() {
    unit_environment=()
    local assignments assignment file
    while IFS= read -r assignments; do
        for assignment in $assignments; do unit_environment+=("$assignment"); done
    done < <(unit_values Environment)
    while IFS= read -r file; do
        case $file in -*) file=${file#-}; [ -f "$root$file" ] || continue ;; esac
        while IFS= read -r assignment; do
            unit_environment+=("$assignment")
        done < <(read_environment_file "$root$file")
    done < <(unit_values EnvironmentFile)
}

# run_as_unit COMMAND-LINE: the command as the unit's user, with its
# environment, umask and working directory, no capabilities, no new
# privileges. It execs: call it in a subshell, `( … )`, `$( … )` or `… &`.
run_as_unit() {
    local user group umask workdir
    user=$(unit_values User)
    group=$(unit_values Group)
    umask=$(unit_values UMask)
    workdir=$(unit_values WorkingDirectory)
    load_unit_environment
    # shellcheck disable=SC2086 # the unit's command line is split into words, as systemd does
    exec nsenter -t "$netns_pid" -n chroot "$root" setpriv --reuid="$user" --regid="${group:-$user}" --init-groups \
        --no-new-privs --inh-caps=-all --bounding-set=-all \
        env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "${unit_environment[@]}" \
        sh -c 'umask "$1"; cd "$2" || exit 200; shift 2; exec "$@"' sh "${umask:-0022}" "${workdir:-/}" $1
}

# StateDirectory=: created, owned by the unit's user, with its mode.
make_state_directory() {
    local name dir
    name=$(unit_values StateDirectory)
    dir=/var/lib/$name
    in_root install -d -o "$(unit_values User)" -g "$(unit_values Group)" \
        -m "$(unit_values StateDirectoryMode)" "$dir"
}

# --- the service, either way ------------------------------------------------

service_log=$work/service.log
# Processes named puente inside the root (not the host's, which may run its own).
root_puente_pids() {
    local pid
    for pid in $(pgrep -x puente || true); do
        if [ "$mode" = systemd ]; then
            [ "$(readlink "/proc/$pid/ns/pid")" = "$(readlink "/proc/$leader/ns/pid")" ] && echo "$pid"
        else
            [ "$(readlink "/proc/$pid/root")" = "$root" ] && echo "$pid"
        fi
    done
    return 0
}
service_active() {
    if [ "$mode" = systemd ]; then
        [ "$(in_root systemctl is-active puente.service 2>/dev/null)" = active ]
    else
        [ -n "$service_pid" ] && kill -0 "$service_pid" 2>/dev/null
    fi
}
service_main_pid() { # the service's process id as the host sees it
    if [ "$mode" = systemd ]; then
        local inner
        inner=$(in_root systemctl show -p MainPID --value puente.service)
        [ "$inner" != 0 ] || return 1
        # The container's pid namespace is nested: its /proc names the host pid.
        local pid
        for pid in $(root_puente_pids); do
            if [ "$(awk '/^NSpid:/ { print $NF }' "/proc/$pid/status")" = "$inner" ]; then
                echo "$pid"; return 0
            fi
        done
        return 1
    else
        echo "$service_pid"
    fi
}
start_service() {
    if [ "$mode" = systemd ]; then
        in_root systemctl start puente.service
    else
        make_state_directory
        local pre
        pre=$(unit_values ExecStartPre)
        (run_as_unit "$pre") >>"$service_log" 2>&1 || return 1
        run_as_unit "$(unit_values ExecStart)" >>"$service_log" 2>&1 &
        service_pid=$!
        sleep 0.2
        kill -0 "$service_pid" 2>/dev/null
    fi
}
stop_service() { # stops and checks the service exited cleanly
    if [ "$mode" = systemd ]; then
        in_root systemctl stop puente.service
        [ "$(in_root systemctl show -p Result --value puente.service)" = success ]
    else
        [ -n "$service_pid" ] || return 1
        kill -TERM "$service_pid"
        local status=0
        wait "$service_pid" || status=$?
        service_pid=
        [ "$status" = 0 ]
    fi
}
wait_ready() { # poll /readyz for at most 30 s; its status on success
    local deadline=$((SECONDS + 30)) body
    while [ $SECONDS -lt $deadline ]; do
        if body=$(in_net curl -fsS --max-time 2 http://127.0.0.1:8080/readyz 2>/dev/null); then
            grep -o '"status":"[a-z]*"' <<<"$body" || echo "$body"
            return 0
        fi
        sleep 0.3
    done
    echo "no 200 from /readyz within 30 s"
    return 1
}
service_journal() {
    if [ "$mode" = systemd ]; then
        in_root journalctl -u puente.service --no-pager -o cat 2>/dev/null | tail -n "${1:-15}"
    else
        tail -n "${1:-15}" "$service_log"
    fi
}

# --- install ----------------------------------------------------------------

pkg=/srv/package-test/$(basename "$deb")
if ! out=$(in_root_net apt-get update -qq 2>&1); then
    die "apt-get update in the root" "$out"
fi
if out=$(in_root_net apt-get install -y --no-install-recommends "$pkg" 2>&1); then
    pass "apt-get install ./$(basename "$deb") (dependencies resolved by apt)"
else
    die "apt-get install ./$(basename "$deb")" "$(echo "$out" | tail -n 15)"
fi

got=$(in_root /usr/bin/puente --version 2>&1 || true)
if [ "$got" = "puente $version" ]; then pass "/usr/bin/puente --version is 'puente $version'"
else fail "/usr/bin/puente --version is 'puente $version'" "got: $got"; fi

passwd=$(in_root getent passwd puente || true)
IFS=: read -r _ _ uid gid _ home shell <<<"$passwd"
if [ -n "$passwd" ] && [ "$uid" -lt 1000 ] && [ "$home" = /var/lib/puente ] &&
   [ "$shell" = /usr/sbin/nologin ] && [ "$(in_root getent group puente | cut -d: -f3)" = "$gid" ]; then
    pass "system user and group puente (uid $uid, home /var/lib/puente, no login)"
else
    fail "system user and group puente" "passwd: ${passwd:-none}"
fi

for file in /etc/puente/puente.toml /etc/puente/puente.env; do
    got=$(in_root stat -c '%a %U:%G' "$file" 2>&1 || true)
    if [ "$got" = "640 root:puente" ]; then pass "$file is 0640 root:puente"
    else fail "$file is 0640 root:puente" "got: $got"; fi
done

conffiles=$(in_root dpkg-query -W -f='${Conffiles}' puente | awk '{ print $1 }' | sort | xargs)
if [ "$conffiles" = "/etc/puente/puente.env /etc/puente/puente.toml" ]; then pass "both are conffiles"
else fail "both are conffiles" "got: $conffiles"; fi

wants=/etc/systemd/system/multi-user.target.wants/puente.service
link=$(readlink "$root$wants" || true)
case $link in
    /lib/systemd/system/puente.service | /usr/lib/systemd/system/puente.service)
        pass "the unit is enabled ($wants)" ;;
    *) fail "the unit is enabled" "no symlink $wants (${link:-none})" ;;
esac
if [ "$mode" = systemd ]; then
    check "systemctl is-enabled puente: enabled" test "$(in_root systemctl is-enabled puente.service)" = enabled
    check "systemd-analyze verify accepts the installed unit" in_root systemd-analyze verify --man=no puente.service
fi
if ! service_active && [ -z "$(root_puente_pids)" ] && [ ! -e "$root/var/lib/puente" ]; then
    pass "not started by the install (nothing running, no /var/lib/puente)"
else
    fail "not started by the install" "running: $(root_puente_pids | xargs)"
fi

# --- unconfigured: fails clearly, no crash loop -------------------------------

if [ "$mode" = systemd ]; then
    if in_root systemctl start puente.service >/dev/null 2>&1; then
        fail "unconfigured: systemctl start fails" "it started"
    else
        pass "unconfigured: systemctl start fails (check-config, exit 2)"
    fi
    if service_journal 40 | grep -q 'PUENTE_HOOK_SECRETS is required'; then
        pass "unconfigured: the journal names PUENTE_HOOK_SECRETS"
    else
        fail "unconfigured: the journal names PUENTE_HOOK_SECRETS" "$(service_journal 10)"
    fi
    # Restart=on-failure retries (RestartSec=); StartLimitBurst= ends it
    # and the unit stays failed: no crash loop.
    deadline=$((SECONDS + 90))
    state=
    while [ $SECONDS -lt $deadline ]; do
        state=$(in_root systemctl show -p ActiveState --value puente.service || true)
        [ "$state" = failed ] && break
        sleep 1
    done
    restarts=$(in_root systemctl show -p NRestarts --value puente.service || true)
    sleep 12 # longer than RestartSec=: nothing tries again
    if [ "$state" = failed ] && [ "$(in_root systemctl is-active puente.service)" = failed ] &&
       [ "$(in_root systemctl show -p NRestarts --value puente.service)" = "$restarts" ] &&
       service_journal 40 | grep -q 'Start request repeated too quickly'; then
        pass "unconfigured: gives up at the start limit (NRestarts=$restarts), stays failed"
    else
        fail "unconfigured: gives up after a few restarts" "ActiveState=$state NRestarts=$restarts" "$(service_journal 8)"
    fi
    in_root systemctl reset-failed puente.service
else
    make_state_directory
    status=0
    out=$(run_as_unit "$(unit_values ExecStartPre)" 2>&1) || status=$?
    if [ "$status" = 2 ] && grep -q 'PUENTE_HOOK_SECRETS is required' <<<"$out"; then
        pass "unconfigured: ExecStartPre check-config exits 2 naming PUENTE_HOOK_SECRETS"
    else
        fail "unconfigured: ExecStartPre check-config exits 2" "exit $status: $out"
    fi
fi

# --- configure and start -----------------------------------------------------

# Edit both conffiles in place (owner and mode stay): the secrets, and a
# marker that the upgrade below must keep.
cat >>"$root/etc/puente/puente.env" <<EOF
PUENTE_HOOK_SECRETS=$secret
PUENTE_ADMIN_TOKEN=$admin_token
EOF
printf '\n# edited by package-test\nlog = "info"\n' >>"$root/etc/puente/puente.toml"

if start_service; then
    pass "configured: the service starts ($mode)"
else
    fail "configured: the service starts" "$(service_journal)"
fi
if body=$(wait_ready); then
    pass "GET /readyz answers 200 $body"
else
    fail "GET /readyz answers 200" "$body" "$(service_journal)"
fi
pid=$(service_main_pid || true)
if [ -n "$pid" ] && [ "$(awk '/^Uid:/ { print $2 }' "/proc/$pid/status")" = "$uid" ] &&
   [ "$(awk '/^CapEff:/ { print $2 }' "/proc/$pid/status")" = 0000000000000000 ] &&
   [ "$(awk '/^NoNewPrivs:/ { print $2 }' "/proc/$pid/status")" = 1 ]; then
    pass "runs as user puente (uid $uid), no capabilities, no new privileges"
else
    fail "runs as user puente, no capabilities, no new privileges" \
        "pid=${pid:-none} $(grep -E '^(Uid|CapEff|NoNewPrivs):' "/proc/${pid:-self}/status" 2>&1 | xargs)"
fi
got=$(in_root stat -c '%a %U:%G' /var/lib/puente 2>&1 || true)
if [ "$got" = "750 puente:puente" ] && [ -f "$root/var/lib/puente/puente.db" ]; then
    pass "the database is in /var/lib/puente (0750 puente:puente)"
else
    fail "the database is in /var/lib/puente" "got: $got; $(ls -la "$root/var/lib/puente" 2>&1)"
fi
printf '%s\n' "$secret" >"$root/srv/package-test/secret"
if out=$(in_net chroot "$root" "${container_env[@]}" /usr/bin/puente send \
        --url http://127.0.0.1:8080 --secret-file /srv/package-test/secret \
        --id evt_package_test /srv/package-test/ClientAdd.json 2>&1) && grep -q '^202 ' <<<"$out"; then
    pass "a signed hook is accepted and stored: $out"
else
    fail "a signed hook is accepted and stored" "$out"
fi

# --- backups: made while it runs, restored after a loss ----------------------

backup_events() { # backup_events FILE: the events count `puente backup FILE` reports
    in_root /usr/bin/puente backup --database /var/lib/puente/puente.db "$1" 2>&1 |
        sed -n 's/^backed up .*: \([0-9]*\) events,.*/\1/p' || true
}
got=$(backup_events /root/backup-running.db)
if [ "$got" = 1 ]; then
    pass "puente backup while the service runs: 1 event"
else
    fail "puente backup while the service runs" "got: ${got:-nothing}"
fi
out=$(in_root /usr/bin/puente restore --database /var/lib/puente/puente.db \
    /root/backup-running.db 2>&1) && code=0 || code=$?
if [ "$code" = 2 ] && grep -q 'stop it first' <<<"$out"; then
    pass "puente restore refuses while the service runs (exit 2)"
else
    fail "puente restore refuses while the service runs" "exit $code: $out"
fi
stop_service || fail "stop the service before the restore" "$(service_journal)"
# The database is lost; root restores the backup into the empty folder.
in_root sh -c 'rm -f /var/lib/puente/puente.db*'
if out=$(in_root /usr/bin/puente restore --database /var/lib/puente/puente.db \
        /root/backup-running.db 2>&1) &&
   [ "$(in_root stat -c '%U:%G' /var/lib/puente/puente.db 2>&1)" = puente:puente ]; then
    pass "root restores into the emptied folder; the files are puente's"
else
    fail "root restores into the emptied folder" "$out" "$(ls -la "$root/var/lib/puente" 2>&1)"
fi
if start_service && body=$(wait_ready) &&
   [ "$(backup_events /root/backup-restored.db)" = 1 ]; then
    pass "the service starts on the restored database; the event is back"
else
    fail "the service starts on the restored database" "${body:-}" "$(service_journal)"
fi

if [ "$mode" = systemd ]; then
    if poweroff_container && boot_container && body=$(wait_ready); then
        pass "after a reboot the enabled unit starts by itself: $body"
    else
        fail "after a reboot the enabled unit starts by itself" "$(service_journal)" "$(tail -n5 "$work/console.log")"
    fi
fi

# --- upgrade keeps the edited conffiles --------------------------------------

next=$work/puente_${version}-2_${arch}.deb
rm -rf "$work/repack"
dpkg-deb -R "$deb" "$work/repack"
sed -i "s/^Version: .*/Version: ${version}-2/" "$work/repack/DEBIAN/control"
dpkg-deb --root-owner-group -Znone --build "$work/repack" "$next" >/dev/null
rm -rf "$work/repack"
cp "$next" "$root/srv/package-test/"
before=$(service_main_pid || true)
if out=$(in_root_net apt-get install -y "/srv/package-test/$(basename "$next")" 2>&1); then
    pass "upgrade to ${version}-2 (apt-get install)"
else
    fail "upgrade to ${version}-2" "$(echo "$out" | tail -n 15)"
fi
if grep -q '^# edited by package-test$' "$root/etc/puente/puente.toml" &&
   grep -qxF "PUENTE_HOOK_SECRETS=$secret" "$root/etc/puente/puente.env" &&
   [ "$(in_root stat -c '%a %U:%G' /etc/puente/puente.toml /etc/puente/puente.env | sort -u)" = "640 root:puente" ]; then
    pass "the upgrade kept both edited conffiles, 0640 root:puente"
else
    fail "the upgrade kept both edited conffiles" "$(tail -n3 "$root/etc/puente/puente.toml" 2>&1)"
fi
if [ "$mode" = systemd ]; then
    after=$(service_main_pid || true)
    if [ -n "$after" ] && [ "$after" != "$before" ] && body=$(wait_ready); then
        pass "the upgrade restarted the running service: $body"
    else
        fail "the upgrade restarted the running service" "before=$before after=$after" "$(service_journal)"
    fi
else
    if stop_service && start_service && body=$(wait_ready); then
        pass "the upgraded binary serves: $body"
    else
        fail "the upgraded binary serves" "$(service_journal)"
    fi
fi
if stop_service; then pass "stop: SIGTERM, clean exit"
else fail "stop: SIGTERM, clean exit" "$(service_journal)"; fi

# --- remove keeps the data; purge deletes it ---------------------------------

if out=$(in_root apt-get remove -y puente 2>&1); then pass "apt-get remove puente"
else fail "apt-get remove puente" "$(echo "$out" | tail -n 10)"; fi
if [ ! -e "$root/usr/bin/puente" ] && [ -f "$root/var/lib/puente/puente.db" ] &&
   [ -f "$root/etc/puente/puente.env" ] && in_root getent passwd puente >/dev/null; then
    pass "remove kept /var/lib/puente, the conffiles and the user"
else
    fail "remove kept /var/lib/puente, the conffiles and the user" "$(ls -la "$root/var/lib/puente" 2>&1)"
fi

if out=$(in_root apt-get purge -y puente 2>&1); then pass "apt-get purge puente"
else fail "apt-get purge puente" "$(echo "$out" | tail -n 10)"; fi
leftovers=()
[ ! -e "$root/var/lib/puente" ] || leftovers+=("/var/lib/puente")
[ ! -e "$root/etc/puente" ] || leftovers+=("/etc/puente: $(ls -A "$root/etc/puente" | tr '\n' ' ')")
! in_root getent passwd puente >/dev/null || leftovers+=("user puente")
! in_root getent group puente >/dev/null || leftovers+=("group puente")
[ -z "$(in_root dpkg-statoverride --list '/etc/puente/*' 2>/dev/null)" ] || leftovers+=("statoverrides")
[ -z "$(find "$root/etc/systemd/system" -name 'puente.service' 2>/dev/null)" ] || leftovers+=("unit links")
if [ ${#leftovers[@]} = 0 ]; then
    pass "purge removed /var/lib/puente, /etc/puente, the user and group, the links"
else
    fail "purge removed everything" "left: ${leftovers[*]}"
fi

if [ "$mode" = systemd ]; then
    poweroff_container || true
fi

rm -f "$next"
if [ "$failures" = 0 ]; then
    unmount_root
    remove_root
else
    echo "package-test: the root is kept for a look: $root (logs in $work)"
fi
echo "package-test ($mode): $passes passed, $failures failed in $((SECONDS - started)) s"
[ "$failures" = 0 ]
