echo a;echo b
echo c&&echo d||echo e
if true;then echo f;fi
for i in 1 2;do echo $i;done
{ echo g;}
(echo h)
echo i # comment
echo j#not-comment
echo 'k # quoted'
echo "l
m"
f()
{
  echo n
}
f
echo o \
  p \
  q
case x in
x)
echo r
;;
esac
if
  true
then
  echo s
fi
while false
do
  :
done
echo t |
  cat
true &&
  echo u
false ||
  echo v
echo w; # trailing comment
echo "x;y" 'z&w'
echo {}
echo }
echo a=b
v=1 echo "prefix"
echo done
