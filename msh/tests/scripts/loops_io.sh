d=/tmp/msh-loops.$$
mkdir -p $d
printf 'line one\nline two\nline three\n' > $d/f
while read -r l; do echo "> $l"; done < $d/f
n=0
while read l; do n=$((n+1)); done < $d/f
echo "$n lines"
cat $d/f | while read a b; do echo "$b"; done
for f in $(cat $d/f); do echo "word $f"; done
exec 5< $d/f
while read -r l <&5; do echo "fd5 $l"; done
exec 5<&-
{ read x; read y; } < $d/f; echo "$y"
i=0
while :; do i=$((i+1)); [ $i -ge 1000 ] && break; done; echo $i
s=""
for c in a b c d e; do s="$s$c"; done; echo $s
echo "$(while read l; do echo ${#l}; done < $d/f)"
rm -rf $d
