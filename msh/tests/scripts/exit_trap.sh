f() { exit 4; }
(f); echo "subshell exit $?"
g() { return; }
g; echo "bare return $?"
false; g; echo "return keeps status $?"
h() { false; return; }
h; echo "h $?"
echo before
exit 5
echo not-reached
