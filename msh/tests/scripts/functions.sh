greet() { echo "hello $1"; }
greet world
add() {
  echo $(( $1 + $2 ))
}
add 2 3
r() { return $1; }
r 7; echo $?
count() {
  local n=$1
  if [ $n -gt 0 ]; then echo $n; count $((n - 1)); fi
}
count 3
v=global
f() { v=changed; }
f; echo $v
g() { local v=local; echo $v; }
g; echo $v
h() { echo "args: $#"; shift; echo "first now: $1"; }
h a b c
echo "outer args: $#"
outer() { inner() { echo inner-defined; }; inner; }
outer; inner
redirected() { echo to-file; } > /tmp/msh-test-func.$$
redirected; cat /tmp/msh-test-func.$$; rm -f /tmp/msh-test-func.$$
loop_func() { for i in 1 2 3; do [ $i = 2 ] && return 5; echo $i; done; }
loop_func; echo "returned $?"
t=temp
show() { echo "show $t"; }
t=override show
echo "$t"
