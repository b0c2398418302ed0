echo hello | cat
echo one two three | wc -w
printf 'c\nb\na\n' | sort | head -2
echo status | false; echo $?
false | true; echo $?
! echo x | grep -q y; echo $?
x=1; echo y | x=2; echo $x
echo abc | while read v; do echo "got $v"; done
echo builtin | read v; echo "[${v:-not set in parent}]"
{ echo a; echo b; } | sort -r
(echo sub1; echo sub2) | wc -l
echo piped | { read z; echo "group read $z"; }
yes | head -3
seq 1 5 | tail -2
echo end
