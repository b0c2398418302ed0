a='single'
b="double $a"
c=$a$b
echo "$c"
echo "${a}'s" "'$a'" '"$a"'
echo "a\"b" 'a"b' a\"b
echo "$(echo "nested \"quotes\"")"
echo "${a:+"$a and more"}"
echo "${undefined:-"default with \$dollar"}"
echo ${undefined:-'single in brace'}
echo "${undefined:-'single in double brace'}"
echo "tab:	:newline escape \n stays"
echo 'it'\''s'
echo "back\\slash" "dollar\$" "back\`tick"
echo '\\' "\\" \\
echo "\a\b\c"
echo $'not-ansi'
x="*"
echo "$x" $x | head -c 1; echo
echo "a" "" "b"
printf '%s|' "" "x" ""; echo
e=""
printf '%s|' $e "$e" ${e} "${e}"; echo
echo "${#a}" "${#b}"
echo "$a"'concat'"$a"
echo "line1
line2"
v='with "double" and '\''single'\'' quotes'
echo "$v"
eval "echo \"$v\""
