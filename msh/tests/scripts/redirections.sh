d=/tmp/msh-redir.$$
mkdir -p $d
echo first > $d/a
echo second >> $d/a
cat $d/a
cat < $d/a
wc -l < $d/a
echo to-stderr >&2
echo both 2>&1
ls $d/nonexistent 2> $d/err; echo "ls status $?"; wc -l < $d/err
{ echo out; echo err >&2; } > $d/o 2> $d/e; cat $d/o $d/e
{ echo out; echo err >&2; } > $d/c 2>&1; sort $d/c
exec 3> $d/three
echo via-three >&3
exec 3>&-
cat $d/three
exec 4< $d/a
read line <&4; echo "read: $line"
read line <&4; echo "read: $line"
exec 4<&-
cat <<EOF
heredoc ${d%.*}
  indented
\$escaped
EOF
cat <<'EOF'
literal $d `date`
EOF
cat <<-EOF
	tab-stripped
		twice
	EOF
x=expanded
cat <<EOF | tr a-z A-Z
piped $x
EOF
while read a b; do echo "[$a] [$b]"; done <<EOF
1 2 3
4
EOF
echo "1 2" > $d/in; read p q < $d/in; echo "$q $p"
: > $d/empty; wc -c < $d/empty
echo data 1>$d/one; cat $d/one
cat 0< $d/one
echo x >$d/"spaced name"; cat "$d/spaced name"
big=$(seq 1 3000)
cat <<EOF | tail -1
$big
EOF
rm -rf $d
