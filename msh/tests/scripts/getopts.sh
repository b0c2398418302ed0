parse() {
  OPTIND=1
  while getopts "ab:c" option; do
    case $option in
      a) echo "flag a" ;;
      b) echo "b with $OPTARG" ;;
      c) echo "flag c" ;;
      ?) echo "bad option" ;;
    esac
  done
  shift $((OPTIND - 1))
  echo "rest: $*"
}
parse -a -b value -c file1 file2
parse -acb joined rest
parse -ab
parse -x -a 2>/dev/null
parse -- -a
parse plain -a
silent() {
  OPTIND=1
  while getopts ":b:" option; do
    case $option in
      b) echo "b=$OPTARG" ;;
      :) echo "missing argument for $OPTARG" ;;
      ?) echo "unknown $OPTARG" ;;
    esac
  done
}
silent -b
silent -z
set -- -a -b x
OPTIND=1
while getopts ab: o; do echo "$o ${OPTARG-}"; done
echo "OPTIND=$OPTIND"
