cd /tmp && pwd
cd / && pwd
cd /tmp; cd /; cd - >/dev/null; pwd
echo "OLDPWD=$OLDPWD"
cd; [ "$(pwd)" = "$HOME" ] && echo home
test 1 -eq 1 && echo eq
test 2 -gt 1 && echo gt
[ abc = abc ] && echo str-eq
[ abc != abd ] && echo str-ne
[ -z "" ] && echo empty
[ -n x ] && echo nonempty
[ -d /tmp ] && echo dir
[ -f /etc/passwd ] && echo file
[ -e /nonexistent ] || echo missing
[ ! -d /etc/passwd ] && echo not-dir
[ 1 -lt 2 -a 3 -gt 2 ] && echo and
[ 1 -gt 2 -o 3 -gt 2 ] && echo or
[ \( 1 -eq 1 \) ] && echo parens
[ x ] && echo one-arg
[ ] || echo no-args
command -v cd
command -v sh >/dev/null && echo found-sh
umask 022; umask
umask 077; umask; umask 022
set -- a b c; echo $#; set -- ; echo $#
eval 'echo evaluated'
cmd='echo from-variable'; eval $cmd
eval "v=1; echo \$v"
read a b <<EOF
first second third
EOF
echo "$a|$b"
IFS=: read x y <<EOF
one:two:three
EOF
echo "$x|$y"
read -r raw <<'EOF'
back\slash
EOF
echo "$raw"
read cooked <<'EOF'
back\slash
EOF
echo "$cooked"
printf 'no newline' | { read last; echo "read status $? [$last]"; }
true; echo $?
false; echo $?
: ; echo $?
f=/tmp/msh-source.$$
echo 'sourced=yes; echo in-source' > $f
. $f; echo $sourced
rm -f $f
exit_test() { (exit 42); echo $?; }
exit_test
