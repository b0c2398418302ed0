fact() { if [ $1 -le 1 ]; then echo 1; else echo $(( $1 * $(fact $(( $1 - 1 ))) )); fi; }
fact 10
fib() { local n=$1; if [ $n -lt 2 ]; then echo $n; return; fi; local a=$(fib $((n-1))); local b=$(fib $((n-2))); echo $((a+b)); }
fib 12
counter=0
increment() { counter=$((counter + 1)); }
increment; increment; increment
echo $counter
greet() { echo "hello ${1:-nobody}"; }
greet; greet someone
f() { echo "first"; }
f
f() { echo "second"; }
f
outer() { local x=outer; inner; }
inner() { echo "inner sees $x"; }
x=global; outer
scoped() { local a=1 b; b=2; echo "$a $b"; }
a=A b=B; scoped; echo "$a $b"
args() { for a in "$@"; do printf '<%s>' "$a"; done; echo; }
args 1 "2 3" '' "4"
set -- x y
args "$@" z
wrapper() { args "$@"; }
wrapper "p q" r
recurse() { [ $1 -gt 0 ] && recurse $(( $1 - 1 )); echo "depth $1"; }
recurse 3
ret() { return 3; }
if ret; then echo no; else echo "ret $?"; fi
ret || echo "or $?"
status_of() { "$@"; echo "status of $1: $?"; }
status_of true; status_of false
