# Simple commands, lists, statuses.
echo hello world
echo "double  quoted" 'single  quoted' back\ slashed
true; echo $?
false; echo $?
! false; echo $?
! true; echo $?
true && echo and-yes
false && echo and-no
false || echo or-yes
true || echo or-no
false || false || echo chain
echo a; echo b
echo -n no-newline; echo
echo ''
echo "" x
printf '%s|' a b c; echo
