set -e
false || echo "or is fine"
if false; then echo no; fi
! true
while false; do :; done
f() { false; echo "should not print"; }
f || echo "function failure tested"
echo before
false
echo after
