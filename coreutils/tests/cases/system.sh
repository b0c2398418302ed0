# Cases for scripts/tests/coreutils: ps, mount, umount, dmesg, poweroff,
# reboot, halt. The process list and the machine change from run to run,
# so ps is checked against procps's ps in the same run; shutdown tools are
# only ever run as our binary ($COREUTILS), as nobody or with -w.
# (The shell itself runs while the two ps look at it: its state is only
# compared through the sleeping child; arguments are kept to 255 bytes.)
# The child is looked at only once it runs sleep: until its exec, `$!` is
# a copy of bash, and the two ps could see the two names.
ours "ps fields match procps" 'sleep 20 & p=$!; until [ "$(</proc/$p/comm)" = sleep ]; do :; done; for format in pid,ppid,pgid,sid,comm uid,user,gid,group,tty,ni,nlwp "pid=,comm=" "pid,time,stime,c"; do diff <(ps -o $format -p $p,$$) <(/bin/ps -o $format -p $p,$$) && echo same; done; diff <(ps -o pid,stat,s,args -p $p) <(/bin/ps -o pid,stat,s,args -p $p) && echo same; kill $p' 'same
same
same
same
same'
ours "ps default and -f match procps" 'sleep 20 & p=$!; until [ "$(</proc/$p/comm)" = sleep ]; do :; done; diff <(ps -p $p) <(/bin/ps -p $p) && echo same; diff <(ps -f -p $p,$$) <(/bin/ps -f -p $p,$$) && echo same; kill $p' 'same
same'
# Other processes come and go meanwhile (the machine is shared): every
# process procps lists both before and after ours must be in ours, and ours
# lists each pid once.
ours "ps -e lists every process" 'sleep 20 & p=$!; until [ "$(</proc/$p/comm)" = sleep ]; do :; done; /bin/ps -e -o pid= | tr -d " " | sort > before; ps -e -o pid= | tr -d " " > ours; /bin/ps -e -o pid= | tr -d " " | sort > after; comm -12 before after > both; sort ours > sorted; comm -23 both sorted | wc -l; sort -u ours | cmp -s - sorted && echo once; grep -cx "$p" ours; ps -e -o comm= | grep -c "^sleep$" | grep -q . && echo listed; kill $p' '0
once
1
listed'
ours "ps -u and bad fields" 'ps -u root -o user= | sort -u; ps -o bogus 2>&1; echo $?; ps -p 2147480000 -o pid=; echo $?' "root
ps: error: unknown user-defined format specifier 'bogus'
Try 'ps --help' for more information.
1
1"
same "mount lists the table" 'mount | head -5; mount -t proc; mount -t proc,sysfs; echo $?'
ours "mount and umount a tmpfs" 'mkdir m; mount -t tmpfs -o size=1m,mode=700 mine m && mount | grep -c " on $PWD/m type tmpfs (rw,relatime,size=1024k,mode=700)"; touch m/inside && ls m; umount m; echo $?; ls m; umount m 2>&1; echo $?' "1
inside
0
umount: m: not mounted.
32"
ours "mount errors" 'mount -t tmpfs none /nonexistent/dir 2>&1; echo $?; mount /nowhere 2>&1; echo $?; setpriv --reuid=65534 --regid=65534 --clear-groups mount -t tmpfs none /tmp 2>&1; echo $?; setpriv --reuid=65534 --regid=65534 --clear-groups umount /proc 2>&1; echo $?' "mount: /nonexistent/dir: mount point does not exist.
32
mount: /nowhere: can't find in /etc/fstab.
1
mount: /tmp: must be superuser to use mount.
32
umount: /proc: must be superuser to unmount.
32"
same "dmesg" 'dmesg | head -20; dmesg -r | head -3 | cut -c1-3'
ours "dmesg refused" 'setpriv --reuid=65534 --regid=65534 --clear-groups dmesg 2>&1; echo $?' "dmesg: read kernel buffer failed: Operation not permitted
1"
ours "poweroff reboot halt are refused to others" 'for tool in poweroff reboot halt; do setpriv --reuid=65534 --regid=65534 --clear-groups "$COREUTILS" $tool -n 2>&1; echo $?; done' "poweroff: Operation not permitted
1
reboot: Operation not permitted
1
halt: Operation not permitted
1"
ours "poweroff -w does nothing" '"$COREUTILS" poweroff -w; echo $?; "$COREUTILS" reboot --bogus 2>&1; echo $?' "0
reboot: unrecognized option '--bogus'
Try 'reboot --help' for more information.
1"
