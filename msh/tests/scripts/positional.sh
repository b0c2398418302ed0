set -- one "two words" three
echo $#
echo "$1" "$2" "$3"
for a in "$@"; do echo "[$a]"; done
for a in $@; do echo "<$a>"; done
for a in "$*"; do echo "{$a}"; done
for a; do echo "-$a-"; done
shift
echo $# "$1"
shift 2
echo $#
set --
for a in "$@"; do echo never; done
echo "[$*]" "[$@]"
set -- a b c d e f g h i j k
echo $10 ${10} ${11}
f() { echo "in f: $# $1 $2"; }
f x y
echo after $#
IFS=,
set -- p q r
echo "$*"
IFS=' '
echo $0 | grep -c . 
