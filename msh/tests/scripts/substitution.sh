echo "$(echo inner)"
echo `echo backquote`
x=$(echo assigned); echo $x
echo $(echo $(echo nested))
echo "$(printf 'a\nb\n\n\n')"
echo $(printf 'a\nb')
y=$(false); echo "status $?"
z=$(exit 3); echo "status $?"
echo "$(echo "quotes inside")"
echo $(echo 'single') $(echo "dbl $x")
n=$(seq 3 | wc -l); echo $n
echo "$(cd /; pwd)"; pwd >/dev/null
echo $( (echo sub) )
echo $((1 + $(echo 2)))
echo "`echo \`echo deep\``"
files=$(echo a b c)
for f in $files; do echo "f=$f"; done
