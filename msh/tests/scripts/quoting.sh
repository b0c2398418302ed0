x=value
echo "$x" '$x' \$x "\$x" "a\\b" 'a\\b' "it's" 'say "hi"'
echo "tab	inside" "new
line"
echo \"escaped\" \'single\'
echo a\
b
echo "a\
b"
echo 'a\
b'
echo "$x"suffix "${x}suffix" $x.ext
echo \* "*" '*'
echo "\`" "\a" "\$" "\\"
echo ${x:+"alt with space"}
y=""
echo "[$y]" [$y] "[${y:-default}]"
