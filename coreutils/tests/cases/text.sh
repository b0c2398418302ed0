# Cases for scripts/tests/coreutils: head, tail, wc.
same "head default" 'head numbers'
same "head -n and -c" 'head -n 3 greek; head -c 7 words; head -n 0 greek'
same "head several files" 'head -n 2 greek words partial'
same "head -q -v" 'head -qn1 greek words; head -v -n1 greek'
same "head all but last" 'head -n -2 greek; head -c -5 words; head -n -1 partial; echo; head -n -9 greek'
same "head obsolete -3" 'head -3 numbers; head -2c greek'
same "head stdin" 'cat numbers | head -n 4; printf "a\nb" | head -n -1'
same "head suffix K" 'head -c 1K numbers | wc -c'
same "head bad count" 'head -n x greek'
same "head missing file" 'head -n1 greek nothing words'
same "tail default" 'tail numbers'
same "tail -n -c" 'tail -n 3 greek; tail -c 9 words; tail -n 0 greek; tail -n 1 partial; echo'
same "tail +N" 'tail -n +3 greek; tail -c +5 greek; tail -n +1 partial; echo; tail +4 greek'
same "tail obsolete" 'tail -2 greek; tail -3c words'
same "tail several" 'tail -n 2 greek words'
same "tail stdin" 'seq 1 100000 | tail -n 3; seq 1 100 | tail -n +98; seq 10 | tail -c 6'
same "tail of a big file" 'tail -n 2 numbers; tail -n 1500 numbers | head -n 1'
same "tail missing" 'tail nothing; tail -n x greek'
same "tail empty" 'tail empty; tail -n 3 empty; head empty'
same "tail -f ends with the writer" 'cp greek log; (sleep 0.3; echo appended >> log) & timeout 1 tail -s 0.1 -n 1 -f log; echo $?'
same "wc default" 'wc greek words partial'
same "wc single counts" 'wc -l greek; wc -w words; wc -c partial; wc -m binary'
same "wc stdin pipe" 'cat words | wc; cat words | wc -l; wc < words; wc - < words'
same "wc -L" 'wc -L words mixed; printf "a\tb\n" | wc -L'
same "wc binary and empty" 'wc binary empty'
same "wc missing" 'wc greek nothing'
# --total is newer than the host's GNU wc (9.1): checked against what 9.2 prints.
ours "wc --total" 'wc --total=always greek; wc --total=only -l greek words; wc --total=never greek words' \
' 5  5 31 greek
 5  5 31 total
9
 5  5 31 greek
 4  6 30 words'
same "wc big" 'wc numbers'
