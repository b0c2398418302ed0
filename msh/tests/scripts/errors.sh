nonexistent_command_xyz 2>/dev/null; echo "not found: $?"
/nonexistent/path 2>/dev/null; echo "no path: $?"
cat /nonexistent 2>/dev/null; echo "cat: $?"
f=/tmp/msh-noexec.$$
echo 'echo hi' > $f; chmod -x $f
$f 2>/dev/null; echo "not executable: $?"
rm -f $f
cd /nonexistent 2>/dev/null || echo "cd failed"
echo redirect > /nonexistent/file 2>/dev/null || echo "redirect failed"
(exit 300); echo "wrapped: $?"
sh -c 'kill -9 $$'; echo "killed: $?"
