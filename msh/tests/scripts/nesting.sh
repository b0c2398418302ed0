x=$(for i in 1 2 3; do echo $i; done | tr '\n' ,)
echo $x
if [ "$(echo yes)" = yes ]; then
  case $(echo b) in
    a) echo a ;;
    b) for j in 1 2; do
         while read k; do echo "$j:$k"; done <<EOF
$j
EOF
       done ;;
  esac
fi
f() {
  g() { echo "g $1"; }
  g "$(echo $1 | tr a-z A-Z)"
}
f hello
echo $( echo "$( echo "$( echo deep )" )" )
{ { echo inner; }; } | cat
( ( echo sub-sub ) )
