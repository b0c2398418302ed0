sleep 0.2 &
echo started
wait
echo waited
(sleep 0.1; echo bg-output) &
p=$!
wait $p
echo "wait status $?"
(exit 7) &
wait $!
echo "bg status $?"
sh -c 'exit 3' &
q=$!
sleep 0.2
wait $q; echo "late wait $?"
for i in 1 2 3; do (echo "job $i" > /dev/null) & done
wait
echo all-done
true &
wait %1 2>/dev/null
echo end
