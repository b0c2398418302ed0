x='  a   b  c  '
for w in $x; do echo "[$w]"; done
for w in "$x"; do echo "[$w]"; done
IFS=:
y='a:b::c:'
for w in $y; do echo "<$w>"; done
IFS=' :'
z='a : b:c  :: d'
for w in $z; do echo "{$w}"; done
IFS=
for w in $x; do echo "|$w|"; done
unset IFS
for w in $x; do echo "=$w="; done
e=
set -- $e "" "$e" $e
echo $#
v='*'
cd /tmp 2>/dev/null
