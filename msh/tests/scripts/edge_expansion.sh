# Corners of expansion that real scripts hit.
set -- "a b" c
echo "x$@y"
for w in "x$@y"; do echo "[$w]"; done
for w in x"$@"y; do echo "<$w>"; done
set --
for w in "$@" "x$@"; do echo "{$w}"; done
echo "${#}" "${#@}"
v="a*b"
case $v in a\*b) echo escaped-star;; esac
case $v in "a*b") echo quoted-star;; esac
pat='a*'
case abc in $pat) echo var-pattern;; esac
case abc in "$pat") echo no;; *) echo quoted-var-pattern-literal;; esac
x=hello
echo ${x%l*} ${x%%l*} ${x#*l} ${x##*l}
echo ${x%"l"*} "${x#h}"
echo ${x:-$(echo cmd)} ${unset_v:-$(echo cmd)}
echo ${unset_v:-"two words"} | wc -w
echo ${unset_v:-two words} | wc -w
n=3; echo $((n*n)) $(( $n + n ))
echo $(( (1+2)*(3+4) ))
a=5 b=$((a+1)); echo $b
echo ~root
HOME=/home/test; echo ~ ~/x "~" ~x
echo a{b,c}d
t="  lead trail  "
echo "[$t]" [$t]
IFS=- read a b c <<EOF
1-2-3-4
EOF
echo "$a $b $c"
empty=""
set -- $empty
echo "count $#"
set -- "$empty"
echo "count $#"
echo "${empty:+nonempty}${empty-set}"
printf '%s\n' "${x#"${x%?}"}"
