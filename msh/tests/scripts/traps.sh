trap 'echo "exit trap, status $?"' EXIT
trap 'echo caught USR1' USR1
kill -USR1 $$
echo after-usr1
trap - USR1
trap '' USR2
kill -USR2 $$
echo usr2-ignored
( trap 'echo subshell exit' EXIT; echo in-subshell )
(kill -USR2 $$ 2>/dev/null; echo "subshell still ignores usr2")
trap 'echo term caught' TERM
sh -c 'kill -TERM $PPID'
echo after-term
f() { trap 'echo int trap' INT; kill -INT $$; echo after-int; }
f
trap
false
