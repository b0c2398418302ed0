# Idioms from real scripts.
: ${CONFIG:=default-config}
echo "$CONFIG"
usage() { echo "usage: prog [-v] [-o file] args"; }
parse() {
  verbose=0 output=
  while [ $# -gt 0 ]; do
    case $1 in
      -v) verbose=1 ;;
      -o) shift; output=$1 ;;
      --) shift; break ;;
      -*) usage; return 2 ;;
      *) break ;;
    esac
    shift
  done
  echo "verbose=$verbose output=$output rest=$*"
}
parse -v -o out.txt a b
parse -- -v
parse -x; echo "status $?"
set -- $(echo one two three)
echo "$# $2"
while IFS= read -r line; do printf '[%s]\n' "$line"; done <<'EOF'
  leading spaces
	tab
trailing   
back\slash
EOF
str="a,b,c"
old_ifs=$IFS; IFS=,; set -- $str; IFS=$old_ifs
echo "$# fields: $1 $2 $3"
list=""
for x in 3 1 2; do list="${list:+$list }$x"; done
echo "$list"
if [ -z "${UNDEFINED_VARIABLE:-}" ]; then echo "undefined is empty"; fi
[ "$(echo x)" ] && echo "nonempty substitution"
command -v parse >/dev/null && echo "parse is defined"
unset -f parse
command -v parse >/dev/null || echo "parse is gone"
x=5
y=$(( x > 3 ? x * 2 : 0 ))
echo $y
to_upper() { echo "$1" | tr '[:lower:]' '[:upper:]'; }
echo "$(to_upper hello) $(to_upper world)"
n=0; for f in /etc/passwd /etc/group /nonexistent; do [ -r "$f" ] && n=$((n+1)); done; echo "$n readable"
exec 3>&1
result=$( { echo "to-fd3" >&3; echo "captured"; } )
exec 3>&-
echo "$result"
echo visible 2>&1 >/dev/null
(echo hidden >&2) 2>/dev/null
{ echo err-to-out >&2; } 2>&1 | tr a-z A-Z
cat <&- 2>/dev/null; echo "closed stdin: $?"
echo "pid is a number: $(( $$ > 0 ))"
case "$(uname -s)" in Linux) echo "on linux";; *) echo "elsewhere";; esac
i=0; until [ $i -ge 3 ]; do i=$((i+1)); done; echo "until $i"
f() { echo "$@"; }; f "a  b" 'c'
eval "f \"quoted in eval\" 'single'"
var=name; eval "$var=evaluated"; echo "$name"
printf '%s=%s\n' key value
echo "${PATH%%:*}" | grep -c /
