a=1 b=2
echo $a $b
a=$b$a
echo $a
unset a
echo "[${a}]" "[${a-unset}]" "[${a:-empty}]"
a=
echo "[${a-unset}]" "[${a:-empty}]" "[${a+set}]" "[${a:+nonempty}]"
echo ${c=assigned} $c
echo ${d:=also} $d
s=/usr/local/lib/file.tar.gz
echo ${#s}
echo ${s#*/} ${s##*/}
echo ${s%.*} ${s%%.*}
echo ${s#/usr} ${s%gz}
echo "${s##*/}" "${s%/*}"
p='*.gz'
echo ${s%$p} ${s%"$p"}
x=abcabc
echo ${x#a*c} ${x##a*c} ${x%b*} ${x%%b*}
export E=exported
sh -c 'echo $E'
L=local-only
sh -c 'echo "[$L]"'
L=prefix sh -c 'echo "[$L]"'
echo "[$L]"
readonly R=fixed
echo $R
echo $((1+2)) $(( 10 / 3 )) $(( 10 % 3 )) $(( 2 * (3 + 4) )) $(( -5 + 2 ))
i=5; echo $((i * 2)) $((i += 3)) $i
echo $(( 1 < 2 )) $(( 3 == 4 )) $(( 1 && 0 )) $(( 0 || 2 )) $(( 5 > 3 ? 10 : 20 ))
echo $(( 0x10 )) $(( 010 )) $(( 1 << 3 )) $(( 255 & 15 )) $(( 8 | 1 )) $(( 6 ^ 3 )) $(( ~0 ))
