if true; then echo then; fi
if false; then echo no; else echo else; fi
if false; then echo no; elif true; then echo elif; else echo no; fi
if false; then echo no; fi; echo "status $?"
for i in 1 2 3; do echo "for $i"; done
for i in a b c
do
  echo "line $i"
done
i=0
while [ $i -lt 3 ]; do echo "while $i"; i=$((i+1)); done
until [ $i -eq 0 ]; do echo "until $i"; i=$((i-1)); done
for i in 1 2 3 4 5; do
  if [ $i -eq 2 ]; then continue; fi
  if [ $i -eq 4 ]; then break; fi
  echo "loop $i"
done
for i in 1 2; do for j in a b c; do
  [ $j = b ] && continue 2
  echo "$i$j"
done; done
for i in 1 2; do for j in a b; do
  [ $i = 2 ] && break 2
  echo "$i$j"
done; done
echo "after loops"
case hello in
  h*) echo starts-with-h ;;
  *) echo other ;;
esac
for w in apple Banana cherry 42 '' x.c 'a b'; do
  case $w in
    [aeiou]*) echo "$w vowel";;
    [A-Z]*) echo "$w upper";;
    *[0-9]*) echo "$w digit";;
    '') echo "empty";;
    *.c|*.h) echo "$w source";;
    *' '*) echo "$w space";;
    *) echo "$w other";;
  esac
done
case x in (x) echo paren;; esac
case a in b) echo no;; esac; echo "case status $?"
x=abc; case $x in a?c) echo "question";; esac
case '*' in '*') echo literal-star;; *) echo any;; esac
{ echo grouped; echo twice; }
(echo subshell; exit 3); echo "sub status $?"
y=outer; (y=inner; echo $y); echo $y
while false; do :; done; echo "while status $?"
