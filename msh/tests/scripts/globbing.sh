d=/tmp/msh-glob.$$
mkdir -p $d/sub && cd $d
touch a.c b.c c.h .hidden.c sub/x.c 'with space.c'
echo *.c
echo *.h
echo ?.c
echo [ab].c
echo [!a].c
echo *.none
echo .*.c
echo */*.c
echo "*.c"
echo \*.c
x='*.c'
echo $x
echo "$x"
set -f
echo *.c
set +f
for f in *.c; do echo "file: $f"; done
echo [[:alpha:]].h
cd / && rm -rf $d
